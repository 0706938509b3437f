import type { Allocation, IpamTx } from "../datastore/ipam-store.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { formatIp, type Ip, type IpFamily, parseIp } from "../model/ip.ts";
import { exhaustedError } from "./exhausted-error.ts";
import { type IpRange, isReservedAddress } from "./ip-range.ts";
import { nextFreeAddress } from "./next-free-address.ts";
import { describeRangeSet, type RangeSet, rangeOf } from "./range-set.ts";

export interface AllocateRequest {
  network: string;
  containerId: string;
  ifname: string;
  rangeSets: readonly RangeSet[];
  /** Static addresses; each must fall in a different range set. */
  requestedIps?: readonly Ip[];
}

/** One address of the ADD result. */
export interface AddressAssignment {
  /** With the subnet's prefix, e.g. "10.88.0.5/16" (the CNI result's ips[].address). */
  address: string;
  /** Bare address, e.g. "10.88.0.5". */
  ip: string;
  gateway: string;
  family: IpFamily;
  rangeKey: string;
  /** Index of the range set it satisfies. */
  rangeSet: number;
}

function assignment(range: IpRange, set: RangeSet, ip: Ip): AddressAssignment {
  const text = formatIp(ip);
  return {
    address: `${text}/${range.prefix}`,
    ip: text,
    gateway: formatIp(range.gateway),
    family: range.family,
    rangeKey: range.key,
    rangeSet: set.index,
  };
}

/** Maps each requested address to the set holding it; errors name the address and why. */
function requestsBySet(req: AllocateRequest): Map<number, { ip: Ip; range: IpRange }> {
  const bySet = new Map<number, { ip: Ip; range: IpRange }>();
  for (const ip of req.requestedIps ?? []) {
    const text = formatIp(ip);
    const set = req.rangeSets.find((s) => rangeOf(s, ip));
    if (!set) {
      throw new TartanError(
        "ipam-ip-not-in-range",
        `requested address ${text} is not inside any range of network "${req.network}" ` +
          `(${req.rangeSets.map(describeRangeSet).join("; ")})`,
        "request an address inside a configured range (rangeStart..rangeEnd), or add a range that holds it",
      );
    }
    const range = rangeOf(set, ip)!;
    if (isReservedAddress(range, ip)) {
      throw new TartanError(
        "ipam-ip-not-in-range",
        `requested address ${text} is the network, broadcast or gateway address of ${range.subnet}`,
        "request a host address of the subnet",
      );
    }
    const earlier = bySet.get(set.index);
    if (earlier) {
      throw new TartanError(
        "ipam-ip-request-invalid",
        `requested addresses ${formatIp(earlier.ip)} and ${text} both fall in range set ${set.index}; ` +
          "an attachment gets one address per range set",
        "request at most one address per range set (one IPv4 and one IPv6 for dual-stack)",
      );
    }
    bySet.set(set.index, { ip, range });
  }
  return bySet;
}

/** The owner's existing reservation inside this set, if it already has one (re-ADD). */
function existingIn(set: RangeSet, held: Allocation[]): { ip: Ip; range: IpRange } | undefined {
  for (const a of held) {
    const ip = parseIp(a.ip);
    const range = rangeOf(set, ip);
    if (range) return { ip, range };
  }
  return undefined;
}

/**
 * Reserves one address per range set for (network, containerId, ifname). Call it inside
 * store.transaction: when any step throws, the transaction rolls back and nothing stays reserved.
 *
 * Re-ADD of an owner that already holds addresses returns them instead of failing (host-local
 * says "duplicate allocation"): a runtime retrying an ADD whose result it lost needs the same
 * addresses back, and handing out a second set would leak the first until DEL.
 */
export function allocate(tx: IpamTx, req: AllocateRequest): AddressAssignment[] {
  const requested = requestsBySet(req);
  const held = tx.allocationsOf(req.network, req.containerId, req.ifname);
  const out: AddressAssignment[] = [];
  for (const set of req.rangeSets) {
    const want = requested.get(set.index);
    const have = existingIn(set, held);
    if (have) {
      if (want && want.ip.value !== have.ip.value) {
        throw new TartanError(
          "ipam-already-allocated",
          `${req.containerId}/${req.ifname} on network "${req.network}" already holds ${formatIp(have.ip)} ` +
            `in range set ${set.index}, but ${formatIp(want.ip)} was requested`,
          "run CNI DEL for this container first, then ADD with the new address",
        );
      }
      out.push(assignment(have.range, set, have.ip));
      continue;
    }
    const owner = { network: req.network, containerId: req.containerId, ifname: req.ifname };
    if (want) {
      const text = formatIp(want.ip);
      // reserve() would throw too; checking first gives the message that names the request.
      if (tx.isAllocated(req.network, text)) {
        throw new TartanError(
          "ipam-ip-in-use",
          `requested address ${text} of network "${req.network}" is already reserved by another attachment`,
          `pick another address, or release the holder (CNI DEL); \`tartan ipam ls --network ${req.network}\` ` +
            "(with --data-dir DIR when ipam.dataDir is set) shows who holds it; `tartan ipam check` whether it leaked",
        );
      }
      tx.reserve({ ...owner, ip: text, rangeKey: want.range.key });
      out.push(assignment(want.range, set, want.ip));
      continue;
    }
    let done = false;
    for (const range of set.ranges) {
      const ip = nextFreeAddress(tx, req.network, range);
      if (!ip) continue;
      const text = formatIp(ip);
      tx.reserve({ ...owner, ip: text, rangeKey: range.key });
      tx.setLastReserved(req.network, range.key, text);
      out.push(assignment(range, set, ip));
      done = true;
      break;
    }
    if (!done) throw exhaustedError(req.network, set);
  }
  return out;
}
