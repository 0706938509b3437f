import { describe, expect, test } from "bun:test";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { claimBlock } from "../../src/ipam/claim-block.ts";
import { claimStart } from "../../src/ipam/claim-start.ts";
import { poolBlocks } from "../../src/ipam/pool-blocks.ts";
import { ipamBlock, ipPool } from "../harness/cluster-objects.ts";

const v4 = { cidr: "10.244.0.0/16", blockSize: 26 }; // 1024 blocks

describe("block claims start at an offset derived from the node name", () => {
  test("the same name always starts at the same block; the offset stays inside the pool", () => {
    expect(claimStart("node-17", v4)).toBe(claimStart("node-17", v4));
    for (let i = 0; i < 200; i++) {
      const s = claimStart(`node-${i}`, v4);
      expect(s >= 0n && s < 1024n).toBe(true);
    }
    // An IPv6 pool holds 2^58 blocks: the offset is a bigint below that, not a float.
    const v6 = { cidr: "fd44:7461:7274::/64", blockSize: 122 };
    expect(typeof claimStart("node-1", v6)).toBe("bigint");
  });

  test("distinct names spread: 100 nodes start at (nearly) 100 distinct blocks of 1024", () => {
    const starts = new Set(Array.from({ length: 100 }, (_, i) => claimStart(`node-${i}`, v4)));
    // Uniform hashing into 1024 slots: ~4.7 collisions expected among 100 names.
    expect(starts.size).toBeGreaterThanOrEqual(85);
    // Not bunched at the bottom of the pool either.
    expect([...starts].filter((s) => s >= 512n).length).toBeGreaterThanOrEqual(30);
  });

  test("the search wraps around: every block once, from the start", () => {
    const pool = { cidr: "10.244.0.0/24", blockSize: 26 };
    expect([...poolBlocks(pool, 2n)]).toEqual([
      "10.244.0.128/26",
      "10.244.0.192/26",
      "10.244.0.0/26",
      "10.244.0.64/26",
    ]);
    expect([...poolBlocks(pool, 6n)][0]).toBe("10.244.0.128/26");
  });

  test("a pool with one free block left finds it whatever the start", async () => {
    const pool = ipPool("p", "10.244.0.0/24", 26);
    const all = [...poolBlocks(pool.spec)];
    for (const last of all) {
      // node-4, node-7, node-6, node-5 start at blocks 0, 1, 2, 3: every position of the free one.
      for (const node of ["node-4", "node-7", "node-6", "node-5"]) {
        const ds = new MemoryDatastore();
        for (const c of all) if (c !== last) await ds.create(ipamBlock(c, "y", "p"));
        expect((await claimBlock(ds, pool, node)).spec.cidr).toBe(last);
      }
    }
    expect(all.map((_, i) => claimStart(["node-4", "node-7", "node-6", "node-5"][i]!, pool.spec))).toEqual([
      0n,
      1n,
      2n,
      3n,
    ]);
  });

  test("spread: false starts at the lowest block (the benchmark's baseline)", async () => {
    const pool = ipPool("p", "10.244.0.0/24", 26);
    expect((await claimBlock(new MemoryDatastore(), pool, "node-5", { spread: false })).spec.cidr).toBe(
      "10.244.0.0/26",
    );
  });
});
