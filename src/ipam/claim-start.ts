import type { IPPoolSpec } from "../model/cluster-resources.ts";
import { poolBlockCount } from "./pool-blocks.ts";

/**
 * Where a node starts looking for a free block: a stable hash of its name (32-bit FNV-1a of the
 * UTF-8 bytes) mod the pool's block count. Nodes that start at once then try different blocks
 * instead of all racing for the lowest free one (each lost race costs a datastore round trip);
 * the same node always starts at the same place, so its blocks stay predictable.
 */
export function claimStart(node: string, pool: IPPoolSpec): bigint {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(node)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return BigInt(h) % poolBlockCount(pool);
}
