import type { IPPoolSpec } from "../model/cluster-resources.ts";
import { formatIp, IP_BITS, type Ip } from "../model/ip.ts";
import { checkPool } from "./check-pool.ts";

/**
 * Every block CIDR of the pool, lowest first. A generator: an IPv6 pool holds more blocks than
 * could ever be listed, and a claimer only needs the first few that are not taken yet.
 */
export function* poolBlocks(pool: IPPoolSpec): Generator<string> {
  const cidr = checkPool(pool);
  const family = cidr.ip.family;
  const step = 1n << BigInt(IP_BITS[family] - pool.blockSize);
  const count = 1n << BigInt(pool.blockSize - cidr.prefix);
  for (let i = 0n; i < count; i++) {
    const ip: Ip = { family, value: cidr.ip.value + i * step };
    yield `${formatIp(ip)}/${pool.blockSize}`;
  }
}
