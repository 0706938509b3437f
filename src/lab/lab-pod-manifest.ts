import type { PodResource } from "../model/k8s-resources.ts";
import type { LabPodPort } from "./lab-pod-ports.ts";

export interface LabPodManifestInput {
  namespace: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  ports: LabPodPort[];
}

/**
 * The Pod object of a lab pod, as a kubelet's cluster would have it before the CNI ADD:
 * labels, spec.nodeName and one container whose ports carry the names NetworkPolicy named
 * ports resolve against. The lab's responder is that container.
 */
export function labPodManifest(p: LabPodManifestInput): PodResource {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
    spec: {
      nodeName: p.node,
      containers: [{ name: "responder", ...(p.ports.length ? { ports: p.ports } : {}) }],
    },
  };
}
