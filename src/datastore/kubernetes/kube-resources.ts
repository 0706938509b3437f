import { KINDS } from "../../model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../../model/resource.ts";
import { datastoreError } from "../datastore-error.ts";

/** Where one tartan kind lives in the Kubernetes API. */
export interface KubeResource {
  kind: string;
  /** apiVersion of the API objects ("v1", "tartan.dev/v1alpha1", …). */
  apiVersion: string;
  /** /api/v1 or /apis/GROUP/VERSION */
  base: string;
  plural: string;
  namespaced: boolean;
  /**
   * Objects tartan keeps cluster-scoped that live in one namespace in the API (Lease →
   * coordination.k8s.io Lease in the datastore's namespace).
   */
  fixedNamespace?: boolean;
}

const core = (kind: string, plural: string, namespaced: boolean): KubeResource => ({
  kind,
  apiVersion: "v1",
  base: "/api/v1",
  plural,
  namespaced,
});
const tartan = (kind: string, plural: string): KubeResource => ({
  kind,
  apiVersion: TARTAN_API_VERSION,
  base: `/apis/${TARTAN_API_VERSION}`,
  plural,
  namespaced: false,
});

/** Every kind the port is asked for, and its API resource (docs/decisions/0015). */
export const KUBE_RESOURCES: Readonly<Record<string, KubeResource>> = {
  Pod: core("Pod", "pods", true),
  Namespace: core("Namespace", "namespaces", false),
  [KINDS.node]: core("Node", "nodes", false),
  NetworkPolicy: {
    kind: "NetworkPolicy",
    apiVersion: "networking.k8s.io/v1",
    base: "/apis/networking.k8s.io/v1",
    plural: "networkpolicies",
    namespaced: true,
  },
  [KINDS.ipPool]: tartan(KINDS.ipPool, "ippools"),
  [KINDS.ipamBlock]: tartan(KINDS.ipamBlock, "ipamblocks"),
  // BGP through BIRD (decision 0017).
  BGPConfiguration: tartan("BGPConfiguration", "bgpconfigurations"),
  BGPPeer: tartan("BGPPeer", "bgppeers"),
  [KINDS.lease]: {
    kind: "Lease",
    apiVersion: "coordination.k8s.io/v1",
    base: "/apis/coordination.k8s.io/v1",
    plural: "leases",
    namespaced: true,
    fixedNamespace: true,
  },
};

export function kubeResource(kind: string): KubeResource {
  const r = KUBE_RESOURCES[kind];
  if (!r) throw datastoreError("datastore-invalid", `kind ${kind} has no Kubernetes API resource`);
  return r;
}

/** "ipamblocks.tartan.dev", "pods" (for messages). */
export function resourceName(r: KubeResource): string {
  const group = r.apiVersion.includes("/") ? r.apiVersion.split("/")[0] : "";
  return group ? `${r.plural}.${group}` : r.plural;
}

/**
 * The path of a collection (name undefined) or of one object. `namespace` undefined for a
 * namespaced kind: all namespaces (lists and watches only).
 */
export function resourcePath(r: KubeResource, namespace: string | undefined, name?: string): string {
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${r.base}${ns}/${r.plural}${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}
