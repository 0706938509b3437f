import type { Datastore } from "../datastore/datastore.ts";
import type { IpamStore } from "../datastore/ipam-store.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { blockRangeSets } from "../ipam/block-range-sets.ts";
import { claimBlock } from "../ipam/claim-block.ts";
import { EmptyBlockTracker } from "../ipam/empty-block-tracker.ts";
import { nextFreeAddress } from "../ipam/next-free-address.ts";
import { releaseBlock } from "../ipam/release-block.ts";
import type { BlockRequest, BlockResponse } from "../model/agent-api.ts";
import { contains, formatNetwork, parseCidr } from "../model/cidr.ts";
import { blockName, type IPAMBlockResource, type IPPoolResource, KINDS } from "../model/cluster-resources.ts";
import { parseIp } from "../model/ip.ts";
import { TARTAN_API_VERSION } from "../model/resource.ts";
import type { AgentPool } from "./agent-config.ts";
import { type AgentLog, errorFields } from "./agent-log.ts";
import type { AgentMetrics } from "./agent-metrics.ts";
import type { KindMirror } from "./kind-mirror.ts";

export interface NodeBlocksDeps {
  ds: Datastore;
  store: IpamStore;
  blocks: KindMirror<IPAMBlockResource>;
  pools: readonly AgentPool[];
  nodeName: string;
  network: string;
  graceMs: number;
  now: () => number;
  metrics: AgentMetrics;
  log: AgentLog;
  /**
   * False in `ipam.mode: node-podcidr` (decision 0015): the node's blocks are its Node's pod
   * CIDRs (pod-cidr-blocks.ts), nothing is claimed, re-claimed or released. Default true.
   */
  claims?: boolean;
  /**
   * A claim, re-claim or release of this node entered the block mirror (observe / forget fire no
   * onChange, and the watch event that follows changes nothing there): the managers must hear of
   * it now, not at the next unrelated trigger (seen: 14 s in a 50-node BGP lab; up to the resync).
   */
  onOwnChange?: () => void;
}

const familyOf = (cidr: string): 4 | 6 => (cidr.includes(":") ? 6 : 4);

const poolResource = (p: AgentPool): IPPoolResource => ({
  apiVersion: TARTAN_API_VERSION,
  kind: KINDS.ipPool,
  metadata: { name: p.name },
  spec: {
    cidr: p.cidr,
    blockSize: p.blockSize,
    ...(p.natOutgoing !== undefined ? { natOutgoing: p.natOutgoing } : {}),
  },
});

/**
 * This node's blocks: which ones it owns (the IPAMBlock mirror is the truth), the copy of that
 * list in the local IPAM store that the plugin allocates from, claims (one per pool at start,
 * more when the plugin finds its blocks full) and the release of blocks that stayed empty.
 * Claims and releases run one at a time (a promise chain), so two full-blocks requests arriving
 * together claim one block, not two.
 */
export class NodeBlocks {
  /** Blocks being given back: kept off the local list until the datastore delete is settled. */
  private readonly releasing = new Map<string, IPAMBlockResource>();
  private readonly tracker: EmptyBlockTracker;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: NodeBlocksDeps) {
    this.tracker = new EmptyBlockTracker(d.graceMs);
  }

  /**
   * Creates the configured IPPools that do not exist yet (a differing one is reported, not
   * changed). Also in node-podcidr mode, where nothing is claimed from them: there the pools
   * describe the cluster's pod network (the controller manager's --cluster-cidr), which outgoing
   * NAT needs to tell traffic leaving the cluster from pod-to-pod traffic (Flannel's ip-masq).
   */
  async ensurePools(): Promise<void> {
    for (const p of this.d.pools) {
      try {
        await this.d.ds.create(poolResource(p));
      } catch (e) {
        if (!(e instanceof TartanError && e.code === "datastore-conflict")) throw e;
        const cur = (await this.d.ds.get(KINDS.ipPool, p.name)) as IPPoolResource | undefined;
        if (cur && (cur.spec.cidr !== p.cidr || cur.spec.blockSize !== p.blockSize)) {
          this.d.log("warn", "IPPool in the datastore differs from this agent's config; using the config", {
            pool: p.name,
            stored: cur.spec,
            configured: { cidr: p.cidr, blockSize: p.blockSize },
          });
        }
      }
    }
  }

  /** The CIDRs among `cidrs` (this node's pod CIDRs in node-podcidr mode) inside no configured pool. */
  outsidePools(cidrs: readonly string[]): string[] {
    const pools = this.d.pools.map((p) => parseCidr(p.cidr));
    return cidrs.filter((text) => {
      const c = parseCidr(text);
      return !pools.some((p) => p.prefix <= c.prefix && contains(p, c.ip));
    });
  }

  /** The node's blocks in preference order: pools in config order, then by address. */
  owned(): IPAMBlockResource[] {
    const poolIndex = new Map(this.d.pools.map((p, i) => [p.name, i]));
    const mine = [...this.d.blocks.items.values()].filter(
      (b) => b.spec.node === this.d.nodeName && !this.releasing.has(b.metadata.name),
    );
    const key = (b: IPAMBlockResource) => parseCidr(b.spec.cidr).ip.value;
    return mine.sort((a, b) => {
      const pa = poolIndex.get(a.spec.pool) ?? Number.MAX_SAFE_INTEGER;
      const pb = poolIndex.get(b.spec.pool) ?? Number.MAX_SAFE_INTEGER;
      if (pa !== pb) return pa - pb;
      const ka = key(a);
      const kb = key(b);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  }

  /** Writes the owned list to the local store when it differs (one transaction). */
  syncLocal(): string[] {
    const want = this.owned().map((b) => b.spec.cidr);
    this.d.store.transaction((tx) => {
      const have = tx.nodeBlocks(this.d.network);
      if (have.length !== want.length || have.some((c, i) => c !== want[i])) {
        tx.setNodeBlocks(this.d.network, want);
      }
    });
    this.d.metrics.nodeBlocks = want.length;
    return want;
  }

  /** Claims a block in every pool where the node has none. */
  ensureOnePerPool(): Promise<void> {
    return this.serial(async () => {
      for (const pool of this.d.claims === false ? [] : this.d.pools) {
        if (this.owned().some((b) => b.spec.pool === pool.name)) continue;
        await this.claimIn(pool);
      }
      this.syncLocal();
    });
  }

  /**
   * The plugin found its blocks full (or none): claim one block of that family, unless the
   * blocks have room again by now (a request that waited behind another one's claim).
   */
  claimFor(req: BlockRequest): Promise<BlockResponse> {
    return this.serial(async () => {
      if (req.network !== this.d.network) {
        throw new TartanError(
          "agent-wrong-network",
          `this agent keeps blocks for network "${this.d.network}", not "${req.network}"`,
          "point ipam.agentSocket of that network at its own agent, or set `network` in the agent config",
        );
      }
      const blocks = this.syncLocal();
      // node-podcidr: the pod CIDR is all this node has; the plugin reports it full.
      if (this.d.claims === false) return { blocks };
      if (req.family === undefined) {
        let claimed: string | undefined;
        for (const pool of this.d.pools) {
          if (this.owned().some((b) => b.spec.pool === pool.name)) continue;
          claimed = (await this.claimIn(pool)).spec.cidr;
        }
        return { blocks: this.syncLocal(), ...(claimed ? { claimed } : {}) };
      }
      if (this.hasRoom(req.family)) return { blocks };
      const pools = this.d.pools.filter((p) => familyOf(p.cidr) === req.family);
      if (pools.length === 0) {
        throw new TartanError(
          "agent-no-pool",
          `no IPv${req.family} pool is configured on this agent`,
          "add a pool of that family to the agent config",
        );
      }
      let last: unknown;
      for (const pool of pools) {
        try {
          const b = await this.claimIn(pool);
          return { blocks: this.syncLocal(), claimed: b.spec.cidr };
        } catch (e) {
          if (!(e instanceof TartanError && e.code === "ipam-pool-exhausted")) throw e;
          last = e;
        }
      }
      throw last;
    });
  }

  /**
   * Re-claims the blocks this node's pods still have addresses in but the node no longer owns
   * (decision 0014: a node reclaimed as dead while it was alive, e.g. cut off from the datastore
   * and the underlay, comes back): the exact block is created again for this node, so no other
   * node can hand those addresses out. A block another node owns by now is a conflict nobody can
   * repair here: it is logged as an error (the pods keep addresses that are also handed out there).
   */
  keepInUse(): Promise<string[]> {
    return this.serial(async () => {
      if (this.d.claims === false) return [];
      const ips = this.d.store.transaction((tx) => tx.allocations(this.d.network).map((a) => a.ip));
      const owned = this.owned().map((b) => parseCidr(b.spec.cidr));
      const lost = new Map<string, AgentPool>();
      for (const text of ips) {
        const ip = parseIp(text.split("/")[0]!);
        if (owned.some((c) => contains(c, ip))) continue;
        const pool = this.d.pools.find((p) => contains(parseCidr(p.cidr), ip));
        if (!pool) continue; // not from a pool (a static IP, a host-local range): not ours to claim
        lost.set(formatNetwork({ ip, prefix: pool.blockSize }), pool);
      }
      const reclaimed: string[] = [];
      for (const [cidr, pool] of lost) {
        const other = this.d.blocks.items.get(blockName(cidr));
        if (other && other.spec.node !== this.d.nodeName) {
          this.d.log("error", "pods here hold addresses of a block another node owns now", {
            block: cidr,
            owner: other.spec.node,
            hint: "delete and re-create this node's pods with addresses in that block (tartan ipam check lists them)",
          });
          continue;
        }
        try {
          const b = (await this.d.ds.create({
            apiVersion: TARTAN_API_VERSION,
            kind: KINDS.ipamBlock,
            metadata: {
              name: blockName(cidr),
              labels: { "tartan.dev/node": this.d.nodeName, "tartan.dev/pool": pool.name },
            },
            spec: { cidr, pool: pool.name, node: this.d.nodeName },
          })) as IPAMBlockResource;
          this.d.blocks.observe(b);
          this.d.onOwnChange?.();
          this.d.metrics.blockClaims++;
          reclaimed.push(cidr);
          this.d.log("warn", "re-claimed a block this node's pods still use", {
            block: cidr,
            pool: pool.name,
          });
        } catch (e) {
          // Conflict: someone created it meanwhile; the mirror shows whose on the next look.
          if (!(e instanceof TartanError && e.code === "datastore-conflict")) throw e;
        }
      }
      if (reclaimed.length > 0) this.syncLocal();
      return reclaimed;
    });
  }

  /** Releases blocks that stayed empty past the grace period; retries unsettled releases. */
  releaseEmpty(): Promise<void> {
    return this.serial(async () => {
      if (this.d.claims === false) return;
      for (const b of [...this.releasing.values()]) await this.release(b);
      const ips = this.d.store.transaction((tx) => tx.allocations(this.d.network).map((a) => a.ip));
      const owned = this.owned();
      const due = this.tracker.due(
        owned.map((b) => ({ cidr: b.spec.cidr, pool: b.spec.pool })),
        ips,
        this.d.now(),
      );
      for (const t of due) {
        const b = owned.find((o) => o.spec.cidr === t.cidr)!;
        this.releasing.set(b.metadata.name, b);
        await this.release(b);
      }
      this.syncLocal();
    });
  }

  private async release(b: IPAMBlockResource): Promise<void> {
    try {
      const outcome = await releaseBlock(this.d.store, this.d.ds, this.d.network, b);
      this.releasing.delete(b.metadata.name);
      if (outcome === "released") {
        this.d.blocks.forget(b.metadata.name);
        this.d.onOwnChange?.();
        this.tracker.forget(b.spec.cidr);
        this.d.metrics.blockReleases++;
        this.d.log("info", "released empty block", { block: b.spec.cidr, pool: b.spec.pool });
      } else {
        this.d.log("info", "block kept", { block: b.spec.cidr, reason: outcome });
      }
    } catch (e) {
      // Unsettled (the delete may or may not have happened): stays off the local list, retried.
      this.d.metrics.datastoreError("delete");
      this.d.log("warn", "block release failed; will retry", { block: b.spec.cidr, ...errorFields(e) });
    }
  }

  private hasRoom(family: 4 | 6): boolean {
    return this.d.store.transaction((tx) =>
      blockRangeSets(tx.nodeBlocks(this.d.network))
        .filter((s) => s.family === family)
        .some((s) => s.ranges.some((r) => nextFreeAddress(tx, this.d.network, r) !== undefined)),
    );
  }

  private async claimIn(pool: AgentPool): Promise<IPAMBlockResource> {
    try {
      const b = await claimBlock(this.d.ds, poolResource(pool), this.d.nodeName);
      this.d.blocks.observe(b);
      this.d.onOwnChange?.();
      this.d.metrics.blockClaims++;
      this.d.log("info", "claimed block", { block: b.spec.cidr, pool: pool.name });
      return b;
    } catch (e) {
      if (!(e instanceof TartanError && e.code === "ipam-pool-exhausted"))
        this.d.metrics.datastoreError("claim");
      throw e;
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }
}
