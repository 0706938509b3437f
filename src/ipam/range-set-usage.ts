import type { IpamTx } from "../datastore/ipam-store.ts";
import type { IpFamily } from "../model/ip.ts";
import { parseIp } from "../model/ip.ts";
import { isReservedAddress, rangeCapacity } from "./ip-range.ts";
import { type RangeSet, rangeOf } from "./range-set.ts";

/** How full one range set is: the data behind STATUS ("can we ADD?") and `tartan ipam` output. */
export interface RangeSetUsage {
  rangeSet: number;
  family: IpFamily;
  ranges: string[];
  /** Addresses the set can hand out (bigint: an IPv6 /64 holds 2^64). */
  capacity: bigint;
  used: bigint;
  free: bigint;
  exhausted: boolean;
}

/**
 * Counts reservations by where the address lies, not by the rangeKey stored with it, so the
 * numbers stay right after the config's ranges were edited.
 */
export function rangeSetUsage(tx: IpamTx, network: string, rangeSets: readonly RangeSet[]): RangeSetUsage[] {
  const held = tx.allocations(network).map((a) => parseIp(a.ip));
  return rangeSets.map((set) => {
    const capacity = set.ranges.reduce((n, r) => n + rangeCapacity(r), 0n);
    let used = 0n;
    for (const ip of held) {
      const r = rangeOf(set, ip);
      if (r && !isReservedAddress(r, ip)) used++;
    }
    const free = capacity - used;
    return {
      rangeSet: set.index,
      family: set.family,
      ranges: set.ranges.map((r) => r.key),
      capacity,
      used,
      free,
      exhausted: free <= 0n,
    };
  });
}
