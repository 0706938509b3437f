import type { IpamTx } from "../datastore/ipam-store.ts";
import { formatIp, type Ip, parseIp } from "../model/ip.ts";
import { type IpRange, isReservedAddress, rangeContains } from "./ip-range.ts";

/**
 * The next free address of the range in round-robin order: the one after the range's cursor (the
 * last address handed out from it), wrapping from end to start. Continuing after the cursor
 * rather than taking the lowest free address means an address just released is the last to be
 * reused, so a stale peer (ARP cache, conntrack, a policy rule not yet removed) does not meet a
 * new pod at the old pod's address.
 *
 * The search is bounded without loading every reservation: among `held + 4` distinct candidates
 * at most `held` are reserved and at most 3 are never handed out, so one of them is free if any
 * address is. That keeps a nearly empty IPv6 /64 as cheap as a full IPv4 /30.
 */
export function nextFreeAddress(tx: IpamTx, network: string, range: IpRange): Ip | undefined {
  const size = range.end.value - range.start.value + 1n;
  const cursorText = tx.lastReserved(network, range.key);
  let offset = 0n;
  if (cursorText !== undefined) {
    const cursor = parseIp(cursorText);
    if (rangeContains(range, cursor)) offset = (cursor.value - range.start.value + 1n) % size;
  }
  const held = BigInt(tx.countAllocations(network));
  const limit = size < held + 4n ? size : held + 4n;
  for (let i = 0n; i < limit; i++) {
    const candidate: Ip = { family: range.family, value: range.start.value + ((offset + i) % size) };
    if (isReservedAddress(range, candidate)) continue;
    if (!tx.isAllocated(network, formatIp(candidate))) return candidate;
  }
  return undefined;
}
