import { describe, expect, test } from "bun:test";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { claimBlock } from "../../src/ipam/claim-block.ts";
import { forgetNode } from "../../src/ipam/forget-node.ts";
import { KINDS } from "../../src/model/cluster-resources.ts";
import { clusterNode, ipPool } from "../harness/cluster-objects.ts";

const pool = ipPool("default", "10.244.0.0/16", 26);
const node = (name: string) =>
  clusterNode(name, { underlayAddress: "198.18.0.11", underlaySubnet: "198.18.0.0/24" });

describe("forgetNode", () => {
  test("deletes the node's blocks and its Node, nobody else's; a second run finds nothing", async () => {
    const ds = new MemoryDatastore();
    await ds.create(node("node-1"));
    await ds.create(node("node-2"));
    const a = await claimBlock(ds, pool, "node-1");
    const b = await claimBlock(ds, pool, "node-2");
    const c = await claimBlock(ds, pool, "node-1");
    expect(await forgetNode(ds, "node-1")).toEqual({
      node: "node-1",
      nodeDeleted: true,
      blocks: [a.spec.cidr, c.spec.cidr],
    });
    expect((await ds.list(KINDS.ipamBlock)).items.map((x) => x.metadata.name)).toEqual([b.metadata.name]);
    expect((await ds.list(KINDS.node)).items.map((x) => x.metadata.name)).toEqual(["node-2"]);
    expect(await forgetNode(ds, "node-1")).toEqual({ node: "node-1", nodeDeleted: false, blocks: [] });
  });
});
