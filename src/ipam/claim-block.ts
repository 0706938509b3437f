import type { Datastore } from "../datastore/datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import {
  blockName,
  type IPAMBlockResource,
  type IPAMBlockSpec,
  type IPPoolResource,
  KINDS,
} from "../model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../model/resource.ts";
import { claimStart } from "./claim-start.ts";
import { poolBlocks } from "./pool-blocks.ts";

const isConflict = (e: unknown): boolean => e instanceof TartanError && e.code === "datastore-conflict";

/**
 * Claims a free block of the pool for the node. The claim is the datastore's create of the
 * IPAMBlock named after the CIDR: create fails with datastore-conflict when the object exists, so
 * when nodes race for one block exactly one create succeeds and the others move on to the next
 * CIDR. Listing first only saves round trips (blocks known taken are not tried); correctness rests
 * on create alone. The search starts at a block derived from the node name (claimStart) and wraps
 * around, so many nodes starting at once rarely race for the same block; `spread: false` starts
 * at the lowest block (the block-claims benchmark compares both). Throws ipam-pool-exhausted when
 * every block of the pool is owned.
 */
export async function claimBlock(
  ds: Datastore,
  pool: IPPoolResource,
  node: string,
  opts: { spread?: boolean } = {},
): Promise<IPAMBlockResource> {
  const taken = new Set((await ds.list(KINDS.ipamBlock)).items.map((b) => b.metadata.name));
  const start = opts.spread === false ? 0n : claimStart(node, pool.spec);
  for (const cidr of poolBlocks(pool.spec, start)) {
    const name = blockName(cidr);
    if (taken.has(name)) continue;
    const block: IPAMBlockResource = {
      apiVersion: TARTAN_API_VERSION,
      kind: KINDS.ipamBlock,
      metadata: { name, labels: { "tartan.dev/node": node, "tartan.dev/pool": pool.metadata.name } },
      spec: { cidr, pool: pool.metadata.name, node } satisfies IPAMBlockSpec,
    };
    try {
      return (await ds.create(block)) as IPAMBlockResource;
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }
  throw new TartanError(
    "ipam-pool-exhausted",
    `pool ${pool.metadata.name} (${pool.spec.cidr}) has no free /${pool.spec.blockSize} block left for node ${node}`,
    "add a pool to the agent config, or delete the IPAMBlocks of nodes that left the cluster",
  );
}
