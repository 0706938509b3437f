import { describe, expect, test } from "bun:test";
import { InProcessIpam } from "../../src/cni/in-process-ipam.ts";
import type { RequestBlock } from "../../src/cni/request-block.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { allocateFromBlocks } from "../../src/ipam/allocate-from-blocks.ts";
import { blockRangeSets } from "../../src/ipam/block-range-sets.ts";
import { BlocksFullError } from "../../src/ipam/blocks-full-error.ts";
import { checkPool } from "../../src/ipam/check-pool.ts";
import { EmptyBlockTracker } from "../../src/ipam/empty-block-tracker.ts";
import { parseIpamConfig } from "../../src/ipam/ipam-config.ts";
import { poolBlocks } from "../../src/ipam/pool-blocks.ts";
import { blockName, DEFAULT_POOLS } from "../../src/model/cluster-resources.ts";

const take = <T>(g: Iterable<T>, n: number): T[] => {
  const out: T[] = [];
  for (const v of g) {
    if (out.length === n) break;
    out.push(v);
  }
  return out;
};

const errorOf = (fn: () => unknown): TartanError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof TartanError) return e;
    throw e;
  }
  throw new Error("nothing thrown");
};

describe("pool blocks", () => {
  test("an IPv4 /16 pool is carved into /26 blocks, lowest first", () => {
    const blocks = [...poolBlocks({ cidr: "10.244.0.0/16", blockSize: 26 })];
    expect(blocks).toHaveLength(1024);
    expect(blocks.slice(0, 3)).toEqual(["10.244.0.0/26", "10.244.0.64/26", "10.244.0.128/26"]);
    expect(blocks.at(-1)).toBe("10.244.255.192/26");
  });

  test("the default IPv6 pool is enumerated lazily", () => {
    const v6 = DEFAULT_POOLS.find((p) => p.cidr.includes(":"))!;
    expect(v6.blockSize).toBe(122);
    expect(take(poolBlocks(v6), 2)).toEqual(["fd44:7461:7274::/122", "fd44:7461:7274::40/122"]);
    expect(blockName("fd44:7461:7274::40/122")).toBe("fd44-7461-7274--40-122");
  });

  test("invalid pools are refused with ipam-pool-invalid", () => {
    expect(errorOf(() => checkPool({ cidr: "10.244.0.1/16", blockSize: 26 })).code).toBe("ipam-pool-invalid");
    expect(errorOf(() => checkPool({ cidr: "10.244.0.0/16", blockSize: 12 })).message).toContain("blockSize");
    expect(errorOf(() => checkPool({ cidr: "10.244.0.0/16", blockSize: 31 })).code).toBe("ipam-pool-invalid");
    expect(errorOf(() => checkPool({ cidr: "nope", blockSize: 26 })).code).toBe("ipam-pool-invalid");
  });
});

describe("allocation from the node's blocks", () => {
  const req = (containerId: string) => ({ network: "net", containerId, ifname: "eth0" });

  test("each family's blocks form one range set tried in order", () => {
    const sets = blockRangeSets(["10.244.0.64/26", "fd44::/122", "10.244.0.0/26"]);
    expect(sets.map((s) => [s.index, s.family, s.ranges.map((r) => r.subnet)])).toEqual([
      [0, 4, ["10.244.0.64/26", "10.244.0.0/26"]],
      [1, 6, ["fd44::/122"]],
    ]);
  });

  test("fills the first block, moves to the next, then reports the full family", () => {
    const store = new MemoryIpamStore();
    store.transaction((tx) => tx.setNodeBlocks("net", ["10.244.0.0/30", "10.244.0.4/30"]));
    const got = [1, 2].map((i) =>
      store.transaction((tx) => allocateFromBlocks(tx, req(`c${i}`)).map((a) => a.address)),
    );
    // A /30 holds one address once network, gateway and broadcast are skipped.
    expect(got).toEqual([["10.244.0.2/30"], ["10.244.0.6/30"]]);
    const e = errorOf(() => store.transaction((tx) => allocateFromBlocks(tx, req("c3"))));
    expect(e).toBeInstanceOf(BlocksFullError);
    expect((e as BlocksFullError).family).toBe(4);
  });

  test("the full family is named even when an earlier family got an address in the same try", () => {
    const store = new MemoryIpamStore();
    store.transaction((tx) => tx.setNodeBlocks("net", ["10.244.0.0/26", "fd44::/126"]));
    // An IPv6 /126 holds two addresses (no broadcast; network and gateway skipped).
    for (const id of ["c1", "c2"]) store.transaction((tx) => allocateFromBlocks(tx, req(id)));
    const e = errorOf(() => store.transaction((tx) => allocateFromBlocks(tx, req("c3"))));
    expect((e as BlocksFullError).family).toBe(6);
    // Rolled back: c3 holds nothing, not even its IPv4 address.
    store.transaction((tx) => expect(tx.allocationsOf("net", "c3", "eth0")).toEqual([]));
  });

  test("no block at all: BlocksFullError without a family", () => {
    const store = new MemoryIpamStore();
    const e = errorOf(() => store.transaction((tx) => allocateFromBlocks(tx, req("c1"))));
    expect(e).toBeInstanceOf(BlocksFullError);
    expect((e as BlocksFullError).family).toBeUndefined();
  });
});

describe("nodeBlocks IPAM config and the in-process plugin", () => {
  const netconf = (ipam: Record<string, unknown>) => ({
    name: "net",
    ipam: { type: "tartan-ipam", nodeBlocks: true, agentSocket: "/run/x.sock", ...ipam },
  });

  test("nodeBlocks needs no ranges and refuses them", () => {
    const cfg = parseIpamConfig(netconf({}));
    expect(cfg.nodeBlocks).toBe(true);
    expect(cfg.agentSocket).toBe("/run/x.sock");
    expect(cfg.rangeSets).toEqual([]);
    expect(errorOf(() => parseIpamConfig(netconf({ ranges: [[{ subnet: "10.0.0.0/24" }]] }))).code).toBe(
      "ipam-config-invalid",
    );
    expect(errorOf(() => parseIpamConfig(netconf({ nodeBlocks: "yes" }))).code).toBe("ipam-config-invalid");
    expect(errorOf(() => parseIpamConfig(netconf({ agentSocket: "rel.sock" }))).code).toBe(
      "ipam-config-invalid",
    );
  });

  const setup = (blocks: string[], agent: RequestBlock) => {
    const store = new MemoryIpamStore();
    store.transaction((tx) => tx.setNodeBlocks("net", blocks));
    const calls: unknown[] = [];
    const ask: RequestBlock = async (socket, r) => {
      calls.push({ socket, ...r });
      return agent(socket, r);
    };
    const ipam = (id: string) =>
      new InProcessIpam(store, parseIpamConfig(netconf({})), { containerId: id, ifname: "eth0" }, {}, ask);
    return { store, calls, ipam };
  };

  test("ADD with room in the blocks never calls the agent", async () => {
    const { calls, ipam } = setup(["10.244.0.0/26"], async () => {
      throw new Error("must not be called");
    });
    const r = await ipam("c1").add();
    expect(r.ips?.map((i) => i.address)).toEqual(["10.244.0.2/26"]);
    expect(calls).toEqual([]);
  });

  test("full blocks: the agent is asked for the family, writes a block, the retry succeeds", async () => {
    const { store, calls, ipam } = setup(["10.244.0.0/30"], async () => {
      store.transaction((tx) => tx.setNodeBlocks("net", ["10.244.0.0/30", "10.244.0.64/26"]));
      return { blocks: ["10.244.0.0/30", "10.244.0.64/26"], claimed: "10.244.0.64/26" };
    });
    await ipam("c1").add();
    const r = await ipam("c2").add();
    expect(r.ips?.map((i) => i.address)).toEqual(["10.244.0.66/26"]);
    expect(calls).toEqual([{ socket: "/run/x.sock", network: "net", family: 4 }]);
  });

  test("the agent's error reaches the caller; a useless answer gives the exhaustion error", async () => {
    const down = setup([], async () => {
      throw new TartanError("agent-unreachable", "agent down");
    });
    await expect(down.ipam("c1").add()).rejects.toMatchObject({ code: "agent-unreachable" });
    expect(down.calls).toEqual([{ socket: "/run/x.sock", network: "net" }]);
    const useless = setup(["10.244.0.0/30"], async () => ({ blocks: ["10.244.0.0/30"] }));
    await useless.ipam("c1").add();
    await expect(useless.ipam("c2").add()).rejects.toMatchObject({ code: "ipam-blocks-full" });
    expect(useless.calls).toHaveLength(1);
  });
});

describe("STATUS with nodeBlocks", () => {
  const ipam = (store: MemoryIpamStore) =>
    new InProcessIpam(
      store,
      parseIpamConfig({
        name: "net",
        ipam: { type: "tartan-ipam", nodeBlocks: true, agentSocket: "/nonexistent/tt-agent.sock" },
      }),
      { containerId: "c", ifname: "eth0" },
      {},
    );

  test("blocks with room: available without asking the agent", async () => {
    const store = new MemoryIpamStore();
    store.transaction((tx) => tx.setNodeBlocks("net", ["10.244.0.0/26"]));
    await ipam(store).status();
  });

  test("no blocks and no agent: not available (50), naming the socket", async () => {
    await expect(ipam(new MemoryIpamStore()).status()).rejects.toMatchObject({
      cniCode: 50,
      message: expect.stringContaining("/nonexistent/tt-agent.sock"),
    });
  });
});

describe("empty block tracker", () => {
  const b = (cidr: string, pool = "p4") => ({ cidr, pool });

  test("a block is due only after staying empty for the whole grace period", () => {
    const t = new EmptyBlockTracker(1000);
    const blocks = [b("10.0.0.0/26"), b("10.0.0.64/26")];
    expect(t.due(blocks, ["10.0.0.2"], 0)).toEqual([]);
    expect(t.due(blocks, ["10.0.0.2"], 999)).toEqual([]);
    expect(t.due(blocks, ["10.0.0.2"], 1000)).toEqual([b("10.0.0.64/26")]);
    // Used again: the clock restarts.
    expect(t.due(blocks, ["10.0.0.2", "10.0.0.66"], 1100)).toEqual([]);
    expect(t.due(blocks, ["10.0.0.2"], 1200)).toEqual([]);
    expect(t.due(blocks, ["10.0.0.2"], 2199)).toEqual([]);
    expect(t.due(blocks, ["10.0.0.2"], 2200)).toEqual([b("10.0.0.64/26")]);
  });

  test("the node keeps one block per pool, the first in its list", () => {
    const t = new EmptyBlockTracker(0);
    const blocks = [b("10.0.0.64/26"), b("10.0.0.0/26"), b("fd00::/122", "p6")];
    expect(t.due(blocks, [], 0)).toEqual([b("10.0.0.0/26")]);
  });
});
