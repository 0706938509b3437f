import type { NodeResource, NodeStatus } from "../../model/cluster-resources.ts";
import { KINDS } from "../../model/cluster-resources.ts";
import { type ObjectMeta, type Resource, TARTAN_API_VERSION } from "../../model/resource.ts";

/**
 * tartan's Node lives on the core Node as annotations (decision 0015, Flannel's and Calico's
 * way): written with a merge patch of `nodes/NAME/status` carrying the resourceVersion read, so
 * the agent needs no Node writes beyond `nodes/status: patch`.
 */
export const NODE_ANNOTATIONS = {
  underlayAddress: "tartan.dev/underlay-address",
  underlaySubnet: "tartan.dev/underlay-subnet",
  vtepMac: "tartan.dev/vtep-mac",
  /** JSON of the node's BGP settings (spec.bgp, decision 0017). */
  bgp: "tartan.dev/bgp",
  /** JSON of tartan's NodeStatus (heartbeat, ready, the reclaimer's conditions). */
  status: "tartan.dev/node-status",
  /** The Node was created by tartan (a test server or lab without kubelet): deleting tartan's view deletes it. */
  createdByTartan: "tartan.dev/created-by-tartan",
} as const;

const OWN = new Set<string>(Object.values(NODE_ANNOTATIONS));

/** A core Node as the API serves it (only what tartan reads). */
export interface CoreNode {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: { podCIDR?: string; podCIDRs?: string[] } & Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** Whether an agent registered on this core Node (tartan sees only those). */
export const isTartanNode = (n: CoreNode): boolean =>
  typeof n.metadata.annotations?.[NODE_ANNOTATIONS.underlayAddress] === "string";

/** A JSON object from an annotation (anything else: undefined; the agent validates what it reads). */
function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as unknown;
    return s && typeof s === "object" && !Array.isArray(s) ? (s as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const parseStatus = (text: string | undefined): NodeStatus | undefined =>
  parseJsonObject(text) as NodeStatus | undefined;

/** tartan's view of a core Node: spec from the annotations (+ the node's podCIDRs), status from its JSON. */
export function tartanNodeOf(n: CoreNode): NodeResource {
  const a = n.metadata.annotations ?? {};
  const spec: Record<string, unknown> = {
    underlayAddress: a[NODE_ANNOTATIONS.underlayAddress],
    underlaySubnet: a[NODE_ANNOTATIONS.underlaySubnet],
  };
  if (a[NODE_ANNOTATIONS.vtepMac] !== undefined) spec.vtepMac = a[NODE_ANNOTATIONS.vtepMac];
  const bgp = parseJsonObject(a[NODE_ANNOTATIONS.bgp]);
  if (bgp) spec.bgp = bgp;
  const podCIDRs = n.spec?.podCIDRs?.length ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [];
  if (podCIDRs.length) spec.podCIDRs = [...podCIDRs];
  const m = n.metadata;
  const metadata: ObjectMeta = { name: m.name };
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.creationTimestamp !== undefined) metadata.creationTimestamp = m.creationTimestamp;
  if (m.labels && Object.keys(m.labels).length) metadata.labels = { ...m.labels };
  const out: NodeResource = {
    apiVersion: TARTAN_API_VERSION,
    kind: KINDS.node,
    metadata,
    spec: spec as unknown as NodeResource["spec"],
  };
  const status = parseStatus(a[NODE_ANNOTATIONS.status]);
  if (status) out.status = status;
  return out;
}

/** The annotations that carry tartan's Node (null: remove; for a merge patch). */
export function nodeAnnotationsOf(o: Resource | undefined): Record<string, string | null> {
  const spec = (o?.spec ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : v === undefined || v === null ? null : String(v));
  return {
    [NODE_ANNOTATIONS.underlayAddress]: o ? str(spec.underlayAddress) : null,
    [NODE_ANNOTATIONS.underlaySubnet]: o ? str(spec.underlaySubnet) : null,
    [NODE_ANNOTATIONS.vtepMac]: o ? str(spec.vtepMac) : null,
    [NODE_ANNOTATIONS.bgp]: spec.bgp === undefined || spec.bgp === null ? null : JSON.stringify(spec.bgp),
    [NODE_ANNOTATIONS.status]: o?.status === undefined ? null : JSON.stringify(o.status),
  };
}

/** A new core Node carrying tartan's Node (only where tartan creates Nodes: tests, a lab without kubelet). */
export function coreNodeFor(o: Resource): CoreNode {
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.metadata.annotations ?? {})) if (!OWN.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(nodeAnnotationsOf(o))) if (v !== null) annotations[k] = v;
  annotations[NODE_ANNOTATIONS.createdByTartan] = "true";
  const metadata: ObjectMeta = { name: o.metadata.name, annotations };
  if (o.metadata.labels) metadata.labels = { ...o.metadata.labels };
  return { apiVersion: "v1", kind: "Node", metadata, spec: {} };
}
