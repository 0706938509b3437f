import { TartanError } from "../errors/tartan-error.ts";
import { type Cidr, networkOf, parseCidr } from "../model/cidr.ts";
import type { IPPoolSpec } from "../model/cluster-resources.ts";
import { InvalidValueError } from "../model/invalid-value.ts";
import { formatIp, IP_BITS } from "../model/ip.ts";

/**
 * Validates a pool and returns its CIDR: no host bits, and a block size between the pool's own
 * prefix and the longest prefix that still leaves addresses to hand out (IPv4 /30, IPv6 /126).
 */
export function checkPool(pool: IPPoolSpec, field = "pool"): Cidr {
  const bad = (reason: string) =>
    new TartanError(
      "ipam-pool-invalid",
      `${field}: ${reason}`,
      "fix the pool in the agent config (pools: [{cidr, blockSize}])",
    );
  let cidr: Cidr;
  try {
    cidr = parseCidr(pool.cidr, `${field}.cidr`);
  } catch (e) {
    if (e instanceof InvalidValueError) throw bad(e.reason);
    throw e;
  }
  if (networkOf(cidr).value !== cidr.ip.value) {
    throw bad(`${pool.cidr} has host bits set; the network address is ${formatIp(networkOf(cidr))}`);
  }
  const max = IP_BITS[cidr.ip.family] - 2;
  if (!Number.isInteger(pool.blockSize) || pool.blockSize < cidr.prefix || pool.blockSize > max) {
    throw bad(`blockSize ${pool.blockSize} must be an integer between ${cidr.prefix} and ${max}`);
  }
  return cidr;
}
