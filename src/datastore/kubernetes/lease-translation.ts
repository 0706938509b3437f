import { KINDS, type LeaseResource } from "../../model/cluster-resources.ts";
import { type ObjectMeta, type Resource, TARTAN_API_VERSION } from "../../model/resource.ts";

/** A coordination.k8s.io/v1 Lease as the API serves it (only what tartan reads). */
export interface CoordinationLease {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    renewTime?: string;
    acquireTime?: string;
    leaseTransitions?: number;
  };
}

/** MicroTime: RFC 3339 with exactly six fractional digits, as the API server wants it. */
export function microTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return t.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * tartan's Lease (cluster-scoped, decision 0014) is a coordination.k8s.io Lease in the datastore's
 * namespace: holder ↔ holderIdentity, transitions ↔ leaseTransitions; the duration is whole
 * seconds in the API (rounded up: a holder keeps it slightly longer, never shorter).
 */
export function coordinationLeaseOf(o: Resource, namespace: string): CoordinationLease {
  const s = o.spec as Partial<LeaseResource["spec"]>;
  const metadata: ObjectMeta = { name: o.metadata.name, namespace };
  if (o.metadata.resourceVersion !== undefined) metadata.resourceVersion = o.metadata.resourceVersion;
  if (o.metadata.labels) metadata.labels = { ...o.metadata.labels };
  const spec: CoordinationLease["spec"] = {};
  if (s.holder !== undefined) spec.holderIdentity = s.holder;
  if (s.leaseDurationSeconds !== undefined) spec.leaseDurationSeconds = Math.ceil(s.leaseDurationSeconds);
  if (s.renewTime !== undefined) spec.renewTime = microTime(s.renewTime);
  if (s.transitions !== undefined) spec.leaseTransitions = s.transitions;
  return { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata, spec };
}

export function tartanLeaseOf(l: CoordinationLease): LeaseResource {
  const m = l.metadata;
  const metadata: ObjectMeta = { name: m.name };
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.creationTimestamp !== undefined) metadata.creationTimestamp = m.creationTimestamp;
  const s = l.spec ?? {};
  const spec: LeaseResource["spec"] = {
    holder: s.holderIdentity ?? "",
    renewTime: s.renewTime ?? "",
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
  };
  if (s.leaseTransitions !== undefined) spec.transitions = s.leaseTransitions;
  return { apiVersion: TARTAN_API_VERSION, kind: KINDS.lease, metadata, spec };
}
