import type { KubernetesDatastoreConfig } from "../datastore-config.ts";
import { KubeClient } from "./kube-client.ts";
import { inClusterConnection, kubeconfigConnection } from "./kube-connection.ts";
import { KubernetesDatastore } from "./kubernetes-datastore.ts";

export const DEFAULT_TARTAN_NAMESPACE = "tartan-system";

/** The Kubernetes datastore of a config: its kubeconfig, or the pod's service account. */
export function openKubernetesDatastore(c: KubernetesDatastoreConfig): KubernetesDatastore {
  const conn = c.kubeconfig ? kubeconfigConnection(c.kubeconfig, c.context) : inClusterConnection();
  const client = new KubeClient({ conn, timeoutMs: c.timeoutMs });
  return new KubernetesDatastore({ client, namespace: c.namespace ?? DEFAULT_TARTAN_NAMESPACE });
}
