/**
 * Kubernetes-shaped objects: every resource tartan stores (Node, IPPool, IPAMBlock, Pod, Namespace,
 * NetworkPolicy) has apiVersion/kind/metadata/spec/status, so the same objects can live
 * in etcd, in the local store or in the Kubernetes API unchanged.
 */
export interface ObjectMeta {
  name: string;
  /** Set for namespaced kinds (Pod, NetworkPolicy); absent for cluster-scoped ones. */
  namespace?: string;
  uid?: string;
  /** Opaque version for compare-and-swap; set by the datastore on every write. */
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}

export interface Resource<Spec = unknown, Status = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export const TARTAN_API_VERSION = "tartan.dev/v1alpha1";

/** The identity of an object inside a kind. */
export function objectKey(kind: string, name: string, namespace?: string): string {
  return namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`;
}
