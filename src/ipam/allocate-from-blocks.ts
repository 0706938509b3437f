import type { IpamTx } from "../datastore/ipam-store.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { parseIp } from "../model/ip.ts";
import type { AddressAssignment, AllocateRequest } from "./allocate.ts";
import { allocate } from "./allocate.ts";
import { blockRangeSets } from "./block-range-sets.ts";
import { BlocksFullError } from "./blocks-full-error.ts";
import { nextFreeAddress } from "./next-free-address.ts";
import { rangeOf } from "./range-set.ts";

/**
 * nodeBlocks IPAM: reads the node's blocks and allocates from them in the same transaction, so
 * the agent's release of an empty block (also one transaction) cannot interleave with it. Throws
 * BlocksFullError, which rolls the transaction back, when a family's blocks are full or the node
 * has no block yet.
 */
export function allocateFromBlocks(tx: IpamTx, req: Omit<AllocateRequest, "rangeSets">): AddressAssignment[] {
  const rangeSets = blockRangeSets(tx.nodeBlocks(req.network));
  if (rangeSets.length === 0) throw new BlocksFullError(req.network, undefined);
  try {
    return allocate(tx, { ...req, rangeSets });
  } catch (e) {
    if (!(e instanceof TartanError) || e.code !== "ipam-exhausted") throw e;
    // Which family ran out: a set the owner got nothing from (its earlier sets did succeed inside
    // this transaction) and whose every block has no free address.
    const held = tx.allocationsOf(req.network, req.containerId, req.ifname).map((a) => parseIp(a.ip));
    const full = rangeSets.find(
      (s) =>
        !held.some((ip) => rangeOf(s, ip)) && s.ranges.every((r) => !nextFreeAddress(tx, req.network, r)),
    );
    throw new BlocksFullError(req.network, full?.family);
  }
}
