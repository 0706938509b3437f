import type { IpFamily } from "../model/ip.ts";
import { parseIpRange } from "./ip-range.ts";
import type { RangeSet } from "./range-set.ts";

/**
 * The node's blocks as range sets: one set per family (IPv4 first), its ranges the family's blocks
 * in the stored order. A pod gets one address per family, from the first block with room.
 */
export function blockRangeSets(blocks: readonly string[]): RangeSet[] {
  const sets: RangeSet[] = [];
  for (const family of [4, 6] as IpFamily[]) {
    const ranges = blocks
      .filter((b) => (b.includes(":") ? 6 : 4) === family)
      .map((b, i) => parseIpRange({ subnet: b }, `nodeBlocks[${i}]`));
    if (ranges.length) sets.push({ index: sets.length, family, ranges });
  }
  return sets;
}
