import type { Datastore } from "../datastore/datastore.ts";
import { isConflictOrGone } from "../datastore/datastore-error.ts";
import { KINDS, type LeaseResource } from "../model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../model/resource.ts";

export interface DatastoreLeaseOptions {
  ds: Datastore;
  /** The lease object's name (one lease per duty, e.g. "node-reclaimer"). */
  name: string;
  /** This agent's node name: the holder written into the lease. */
  holder: string;
  durationMs: number;
  now: () => number;
}

/**
 * A lease in the datastore, so that exactly one agent does a cluster-wide duty (Kubernetes'
 * leader election on a Lease object, in small): `hold()` creates the lease, renews it when this
 * agent holds it, or takes it over when it expired, each with compare-and-swap, so two agents
 * racing for it cannot both win. Expiry is judged on this agent's clock only, never by comparing
 * clocks: a lease is expired when its resourceVersion has not changed for a whole duration since
 * this agent first saw that version (clock skew between nodes cannot make a live holder look
 * dead). A holder whose renewal fails stops acting at once (`held` is false) and, in any case,
 * before the others may take over: it counts its own validity from the moment it sent the renewal.
 */
export class DatastoreLease {
  /** Local time until which this agent may act as the holder (0: not held). */
  private validUntil = 0;
  /** The version of the lease last seen, and when (local clock) it was first seen. */
  private seen: { version: string; at: number } | undefined;

  constructor(private readonly o: DatastoreLeaseOptions) {}

  /** True while the last successful claim or renewal is younger than the lease's duration. */
  get held(): boolean {
    return this.o.now() < this.validUntil;
  }

  /** Claims, renews or takes over the lease; answers whether this agent holds it now. */
  async hold(): Promise<boolean> {
    const sentAt = this.o.now();
    const cur = (await this.o.ds.get(KINDS.lease, this.o.name)) as LeaseResource | undefined;
    const spec = {
      holder: this.o.holder,
      renewTime: new Date(sentAt).toISOString(),
      leaseDurationSeconds: this.o.durationMs / 1000,
    };
    try {
      if (!cur) {
        await this.o.ds.create({
          apiVersion: TARTAN_API_VERSION,
          kind: KINDS.lease,
          metadata: { name: this.o.name },
          spec: { ...spec, transitions: 0 },
        } satisfies LeaseResource);
      } else if (cur.spec.holder === this.o.holder) {
        await this.o.ds.update({ ...cur, spec: { ...cur.spec, ...spec } });
      } else if (this.expired(cur, sentAt)) {
        await this.o.ds.update({ ...cur, spec: { ...spec, transitions: (cur.spec.transitions ?? 0) + 1 } });
      } else {
        this.validUntil = 0;
        return false;
      }
    } catch (e) {
      this.validUntil = 0;
      if (isConflictOrGone(e)) return false; // someone else wrote first: they hold it
      throw e;
    }
    this.seen = undefined;
    this.validUntil = sentAt + this.o.durationMs;
    return true;
  }

  /** Gives the lease up (on stop) so another agent takes over without waiting for expiry. */
  async release(): Promise<void> {
    if (!this.held) return;
    this.validUntil = 0;
    const cur = (await this.o.ds.get(KINDS.lease, this.o.name)) as LeaseResource | undefined;
    if (cur?.spec.holder !== this.o.holder) return;
    await this.o.ds.delete(KINDS.lease, this.o.name, undefined, cur.metadata.resourceVersion).catch((e) => {
      if (!isConflictOrGone(e)) throw e;
    });
  }

  private expired(cur: LeaseResource, now: number): boolean {
    const version = cur.metadata.resourceVersion ?? "";
    if (this.seen?.version !== version) {
      this.seen = { version, at: now };
      return false;
    }
    // The holder's own duration, not ours: agents with different configs agree on when it ends.
    return now - this.seen.at >= cur.spec.leaseDurationSeconds * 1000;
  }
}
