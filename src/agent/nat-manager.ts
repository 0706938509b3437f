import type { NftTable } from "../dataplane/nft-table.ts";
import { type IPPoolResource, KINDS } from "../model/cluster-resources.ts";
import { renderNatOutgoing } from "../render/nat-outgoing-nft.ts";
import { errorFields } from "./agent-log.ts";
import { KindMirror } from "./kind-mirror.ts";
import type { Manager, ManagerContext, ManagerFactory } from "./manager.ts";

/**
 * Outgoing NAT (Calico's `natOutgoing`): pods of a pool with `spec.natOutgoing` reach addresses
 * outside every pool (the internet, the datacenter, the nodes' own addresses) from the node's
 * address, as a cluster network's pods are expected to; pod-to-pod traffic is never translated.
 * The pools come from the datastore (cluster-wide objects), not from this agent's config, so
 * `tartan apply` of an IPPool changes every node. One nft script holds the whole state; it is
 * rewritten only when the pools' CIDRs or flags change (and at every resync: drift repair).
 */
export class NatManager implements Manager {
  readonly name = "nat";
  readonly mirrors: readonly KindMirror[];
  private readonly pools: KindMirror<IPPoolResource>;
  private dirty = true;
  private last: string | undefined;
  /** The agent's first apply ran: pool changes apply on their own from then on. */
  private started = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly nft: NftTable,
    private readonly ctx: ManagerContext,
  ) {
    this.pools = new KindMirror<IPPoolResource>(ctx.ds, KINDS.ipPool, {
      ...ctx.mirrorOptions("IP pools"),
      onChange: () => {
        this.dirty = true;
        if (this.started)
          this.apply().catch((e) =>
            ctx.log("error", "outgoing NAT apply failed; the next trigger retries", errorFields(e)),
          );
      },
    });
    this.mirrors = [this.pools];
  }

  get inSync(): boolean {
    return this.pools.synced;
  }

  onUpdate(): void {}

  resync(): void {
    this.dirty = true;
    this.last = undefined;
  }

  /** The script for the pools the mirror holds now (sorted: the same pools give the same text). */
  script(): string {
    const pools = [...this.pools.items.values()]
      .map((p) => ({ cidr: p.spec.cidr, natOutgoing: p.spec.natOutgoing === true }))
      .sort((a, b) => a.cidr.localeCompare(b.cidr));
    return renderNatOutgoing(pools);
  }

  apply(): Promise<{ changes?: number } | undefined> {
    // One at a time: an apply from a pool change and one from the agent never interleave.
    const run = this.chain.then(async () => {
      this.started = true;
      if (!this.dirty) return undefined;
      this.dirty = false;
      const text = this.script();
      if (text === this.last) return { changes: 0 };
      try {
        await this.nft.apply(null, text);
      } catch (e) {
        this.dirty = true;
        throw e;
      }
      this.last = text;
      this.ctx.log("info", "outgoing NAT updated", {
        natOutgoing: [...this.pools.items.values()].filter((p) => p.spec.natOutgoing).map((p) => p.spec.cidr),
      });
      return { changes: 1 };
    });
    this.chain = run.catch(() => {});
    return run;
  }

  async stop(): Promise<void> {
    await this.chain;
  }
}

export const natManager =
  (nft: NftTable): ManagerFactory =>
  (ctx) =>
    new NatManager(nft, ctx);
