import type { IPPoolSpec } from "../model/cluster-resources.ts";
import { formatIp, IP_BITS, type Ip } from "../model/ip.ts";
import { checkPool } from "./check-pool.ts";

/** How many blocks the pool holds (2^64 and more for IPv6 pools: a bigint). */
export function poolBlockCount(pool: IPPoolSpec): bigint {
  return 1n << BigInt(pool.blockSize - checkPool(pool).prefix);
}

/**
 * Every block CIDR of the pool, from the block at index `start` (mod the block count) upwards,
 * wrapping around to the lowest, so each block comes exactly once. A generator: an IPv6 pool
 * holds more blocks than could ever be listed, and a claimer only needs the first few that are
 * not taken yet.
 */
export function* poolBlocks(pool: IPPoolSpec, start = 0n): Generator<string> {
  const cidr = checkPool(pool);
  const family = cidr.ip.family;
  const step = 1n << BigInt(IP_BITS[family] - pool.blockSize);
  const count = poolBlockCount(pool);
  const first = ((start % count) + count) % count;
  for (let i = 0n; i < count; i++) {
    const ip: Ip = { family, value: cidr.ip.value + ((first + i) % count) * step };
    yield `${formatIp(ip)}/${pool.blockSize}`;
  }
}
