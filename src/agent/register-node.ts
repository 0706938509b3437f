import type { Datastore } from "../datastore/datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { KINDS, type NodeResource, type NodeSpec, type NodeStatus } from "../model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../model/resource.ts";

const isConflict = (e: unknown): boolean => e instanceof TartanError && e.code === "datastore-conflict";

/**
 * Creates or updates this node's Node object with compare-and-swap: read, then create (fails if
 * someone created it meanwhile) or update at the version read (fails if it changed meanwhile);
 * a conflict means read again. Labels and annotations others put on the Node are kept.
 * `status` is merged into the stored status.
 */
export async function registerNode(
  ds: Datastore,
  name: string,
  spec: NodeSpec,
  status: NodeStatus,
  attempts = 5,
  /** Labels from the agent config (agent config `bgp.labels`), merged over the stored ones. */
  labels?: Readonly<Record<string, string>>,
): Promise<NodeResource> {
  const withLabels = (meta: NodeResource["metadata"]) =>
    labels && Object.keys(labels).length > 0 ? { ...meta, labels: { ...meta.labels, ...labels } } : meta;
  for (let i = 0; ; i++) {
    try {
      const cur = (await ds.get(KINDS.node, name)) as NodeResource | undefined;
      if (!cur) {
        return (await ds.create({
          apiVersion: TARTAN_API_VERSION,
          kind: KINDS.node,
          metadata: withLabels({ name }),
          spec,
          status,
        })) as NodeResource;
      }
      // spec.podCIDRs is the cluster's (Kubernetes' controller manager assigns it), never the agent's.
      const podCIDRs = cur.spec?.podCIDRs;
      return (await ds.update({
        ...cur,
        metadata: withLabels(cur.metadata),
        spec: podCIDRs ? { ...spec, podCIDRs } : spec,
        status: { ...cur.status, ...status },
      })) as NodeResource;
    } catch (e) {
      if (!isConflict(e) || i + 1 >= attempts) throw e;
    }
  }
}

/** JSON with object keys sorted: the same data read back through another datastore compares equal. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );

/**
 * Whether the stored Node already holds what registerNode would write: the spec (apart from the
 * cluster's podCIDRs), ready, and the config's labels. A heartbeat then writes nothing to it.
 */
export function nodeIsRegistered(
  cur: NodeResource,
  spec: NodeSpec,
  labels?: Readonly<Record<string, string>>,
): boolean {
  const { podCIDRs: _, ...stored } = cur.spec ?? ({} as NodeSpec);
  if (canonical(stored) !== canonical(spec) || cur.status?.ready !== true) return false;
  return Object.entries(labels ?? {}).every(([k, v]) => cur.metadata.labels?.[k] === v);
}
