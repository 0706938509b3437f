import { contains, parseCidr } from "../model/cidr.ts";
import { parseIp } from "../model/ip.ts";

/** A block as the tracker sees it: its CIDR and the pool it belongs to. */
export interface TrackedBlock {
  cidr: string;
  pool: string;
}

/**
 * Decides which of a node's blocks are due for release: a block becomes due once it has held no
 * address for `graceMs` without a break. The grace period keeps a block whose last pod is being
 * replaced (a rolling update empties and refills it within seconds) from bouncing between nodes.
 * The node keeps at least one block per pool, so the next ADD needs no round trip to the agent.
 * Pure bookkeeping: the caller does the release (one store transaction, then a CAS delete).
 */
export class EmptyBlockTracker {
  private readonly emptySince = new Map<string, number>();

  constructor(private readonly graceMs: number) {}

  /**
   * Records what is used now and returns the blocks due for release, in the order given.
   * `blocks` is the node's list in preference order: the first block of a pool is the one kept.
   */
  due(blocks: readonly TrackedBlock[], allocatedIps: readonly string[], now: number): TrackedBlock[] {
    const ips = allocatedIps.map((t) => parseIp(t));
    const live = new Set(blocks.map((b) => b.cidr));
    for (const cidr of [...this.emptySince.keys()]) if (!live.has(cidr)) this.emptySince.delete(cidr);
    const empty = new Set<string>();
    for (const b of blocks) {
      const c = parseCidr(b.cidr);
      if (ips.some((ip) => contains(c, ip))) {
        this.emptySince.delete(b.cidr);
        continue;
      }
      empty.add(b.cidr);
      if (!this.emptySince.has(b.cidr)) this.emptySince.set(b.cidr, now);
    }
    const out: TrackedBlock[] = [];
    const pools = new Set(blocks.map((b) => b.pool));
    for (const pool of pools) {
      const mine = blocks.filter((b) => b.pool === pool);
      const due = mine.filter((b) => empty.has(b.cidr) && now - this.emptySince.get(b.cidr)! >= this.graceMs);
      // All of the pool's blocks due: keep the first one (the one the plugin tries first).
      if (due.length === mine.length) due.shift();
      out.push(...due);
    }
    return blocks.filter((b) => out.includes(b));
  }

  /** Forgets a block (released, or no longer the node's). */
  forget(cidr: string): void {
    this.emptySince.delete(cidr);
  }
}
