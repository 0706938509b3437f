import type { Datastore } from "../datastore/datastore.ts";
import { isConflictOrGone } from "../datastore/datastore-error.ts";
import { KINDS, type LeaseResource } from "../model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../model/resource.ts";

/** The Lease a node's agent renews as its heartbeat (Kubernetes: in the datastore's namespace). */
export const heartbeatLeaseName = (nodeName: string): string => `heartbeat.${nodeName}`;

const PREFIX = heartbeatLeaseName("");

/** A node's heartbeat as the reclaimer judges it: the lease's version moves with each renewal. */
export interface NodeHeartbeatSeen {
  renewTime: string;
  version: string;
}

/**
 * Every node's heartbeat lease, by node name (one list of the Lease kind). Only the reclaimer's
 * holder and status commands read them; no agent watches them.
 */
export async function readHeartbeats(ds: Datastore): Promise<Map<string, NodeHeartbeatSeen>> {
  const out = new Map<string, NodeHeartbeatSeen>();
  for (const o of (await ds.list(KINDS.lease)).items as LeaseResource[]) {
    if (!o.metadata.name.startsWith(PREFIX)) continue;
    out.set(o.metadata.name.slice(PREFIX.length), {
      renewTime: o.spec.renewTime,
      version: o.metadata.resourceVersion ?? "",
    });
  }
  return out;
}

/**
 * This node's heartbeat, as Kubernetes' kubelet does it: a Lease of its own renewed every
 * heartbeatSeconds, instead of a write to its Node. Every agent watches every Node, so a heartbeat
 * on the Node was an event for each agent from each node (at 1000 nodes and 30 s: 33 Node
 * writes/s, 33,000 deliveries/s from etcd or the API server); the lease is read only by the node
 * reclaimer's holder, once per tick. The renewal updates at the version last written (one
 * request); a conflict or a lease gone (deleted by hand) is read again and retried.
 */
export class NodeHeartbeat {
  private last: LeaseResource | undefined;

  constructor(
    private readonly ds: Datastore,
    private readonly nodeName: string,
    private readonly durationMs: number,
    private readonly now: () => number,
  ) {}

  async beat(): Promise<void> {
    const name = heartbeatLeaseName(this.nodeName);
    const spec = {
      holder: this.nodeName,
      renewTime: new Date(this.now()).toISOString(),
      leaseDurationSeconds: this.durationMs / 1000,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const cur = this.last ?? ((await this.ds.get(KINDS.lease, name)) as LeaseResource | undefined);
        this.last = (
          cur
            ? await this.ds.update({ ...cur, spec: { ...cur.spec, ...spec } })
            : await this.ds.create({
                apiVersion: TARTAN_API_VERSION,
                kind: KINDS.lease,
                metadata: { name },
                spec,
              } satisfies LeaseResource)
        ) as LeaseResource;
        return;
      } catch (e) {
        this.last = undefined;
        if (!isConflictOrGone(e) || attempt >= 2) throw e;
      }
    }
  }
}
