import type { Datastore } from "../datastore/datastore.ts";
import { isConflictOrGone } from "../datastore/datastore-error.ts";
import { type IPAMBlockResource, KINDS } from "../model/cluster-resources.ts";

export interface ForgetNodeResult {
  node: string;
  /** Whether the Node object was there to delete. */
  nodeDeleted: boolean;
  /** CIDRs of the node's IPAMBlocks that were deleted. */
  blocks: string[];
}

/**
 * Removes a node from the cluster's datastore: its IPAMBlocks first, then its Node. Whoever
 * removes a node removes its blocks with it (Calico keeps them until a GC runs; here there is no
 * window in which peers hold routes to blocks of a node that is gone, and the addresses return to
 * the pool at once). The node's agent must be stopped first: a live agent registers its Node again
 * and claims new blocks. Each delete carries the resourceVersion read, so a block re-assigned to
 * another node meanwhile is left alone. Idempotent: a node already gone is not an error.
 * `nodeResourceVersion` (the node reclaimer's): the Node is deleted only if unchanged since read.
 */
export async function forgetNode(
  ds: Datastore,
  node: string,
  opts: { nodeResourceVersion?: string } = {},
): Promise<ForgetNodeResult> {
  const blocks = (await ds.list(KINDS.ipamBlock)).items as IPAMBlockResource[];
  const deleted: string[] = [];
  for (const b of blocks.filter((x) => x.spec.node === node)) {
    try {
      await ds.delete(KINDS.ipamBlock, b.metadata.name, undefined, b.metadata.resourceVersion);
      deleted.push(b.spec.cidr);
    } catch (e) {
      if (!isConflictOrGone(e)) throw e;
    }
  }
  let nodeDeleted = true;
  try {
    await ds.delete(KINDS.node, node, undefined, opts.nodeResourceVersion);
  } catch (e) {
    if (!isConflictOrGone(e)) throw e;
    nodeDeleted = false;
  }
  return { node, nodeDeleted, blocks: deleted };
}
