import type { Datastore } from "../datastore/datastore.ts";
import { isConflictOrGone } from "../datastore/datastore-error.ts";
import type { IpamStore } from "../datastore/ipam-store.ts";
import { contains, parseCidr } from "../model/cidr.ts";
import { type IPAMBlockResource, KINDS } from "../model/cluster-resources.ts";
import { parseIp } from "../model/ip.ts";

export type ReleaseOutcome = "released" | "in-use" | "changed";

/**
 * Gives one of the node's blocks back to the pool. First, in ONE local store transaction: if no
 * address of the network lies in the block, remove it from the node's list; the plugin reads the
 * list and allocates in one transaction too, so it either allocated before (the block is in use
 * and stays) or sees the block gone. Then the IPAMBlock is deleted with its resourceVersion, so a
 * block that changed meanwhile (re-assigned by an operator) is left alone.
 * Answers "in-use" (kept), "changed" (the datastore object moved on; dropped from the local list
 * only) or "released". Datastore failures other than conflict/not-found are thrown, with the block
 * already off the local list: the agent rewrites the list from the datastore on its next sync.
 */
export async function releaseBlock(
  store: IpamStore,
  ds: Datastore,
  network: string,
  block: IPAMBlockResource,
): Promise<ReleaseOutcome> {
  const cidr = parseCidr(block.spec.cidr);
  const removed = store.transaction((tx) => {
    if (tx.allocations(network).some((a) => contains(cidr, parseIp(a.ip)))) return false;
    tx.setNodeBlocks(
      network,
      tx.nodeBlocks(network).filter((b) => b !== block.spec.cidr),
    );
    return true;
  });
  if (!removed) return "in-use";
  try {
    await ds.delete(KINDS.ipamBlock, block.metadata.name, undefined, block.metadata.resourceVersion);
    return "released";
  } catch (e) {
    if (isConflictOrGone(e)) return "changed";
    throw e;
  }
}
