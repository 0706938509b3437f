import { afterEach, describe, expect, test } from "bun:test";
import { Agent } from "../../src/agent/agent.ts";
import { agentApi, metricsApi } from "../../src/agent/agent-api.ts";
import { parseAgentConfig } from "../../src/agent/agent-config.ts";
import { CoalescingTrigger } from "../../src/agent/coalescing-trigger.ts";
import { registerNode } from "../../src/agent/register-node.ts";
import { routingManager } from "../../src/agent/routing-manager.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { claimBlock } from "../../src/ipam/claim-block.ts";
import { releaseBlock } from "../../src/ipam/release-block.ts";
import {
  blockName,
  type IPAMBlockResource,
  type IPPoolResource,
  KINDS,
  type NodeResource,
} from "../../src/model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../../src/model/resource.ts";
import { GatedDatastore, testAgentConfig } from "../harness/agent-fixtures.ts";
import { eventually } from "../harness/eventually.ts";
import { FakeKernelPort } from "../harness/fake-kernel-port.ts";

const config = (node: string, over: Record<string, unknown> = {}) =>
  testAgentConfig(node, { blockReleaseGraceSeconds: 60, ...over });

const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});

function makeAgent(
  ds: MemoryDatastore,
  node: string,
  opts: { over?: Record<string, unknown>; now?: () => number; address?: string } = {},
) {
  const store = new MemoryIpamStore();
  const kernel = new FakeKernelPort();
  const logs: { level: string; msg: string }[] = [];
  const agent = new Agent({
    config: config(node, opts.over),
    ds,
    store,
    managers: [routingManager(kernel)],
    underlay: {
      interface: "eth0",
      address: opts.address ?? "198.18.0.2",
      subnet: "198.18.0.0/15",
      mtu: 1500,
    },
    vtepMac: "02:00:00:00:00:01",
    log: (level, msg) => logs.push({ level, msg }),
    ...(opts.now ? { now: opts.now } : {}),
  });
  agents.push(agent);
  return { agent, store, kernel, logs };
}

const node = (name: string, address: string): NodeResource => ({
  apiVersion: TARTAN_API_VERSION,
  kind: KINDS.node,
  metadata: { name },
  spec: { underlayAddress: address, underlaySubnet: "198.18.0.0/15" },
});

const reserve = (store: MemoryIpamStore, ip: string, id = ip) =>
  store.transaction((tx) =>
    tx.reserve({ network: "net", ip, containerId: id, ifname: "eth0", rangeKey: "k" }),
  );

describe("agent config", () => {
  test("defaults: dual-stack pools, vxlan, socket, metrics on loopback", () => {
    const c = parseAgentConfig(
      "nodeName: n1\ndatastore: {type: etcd, endpoints: ['http://127.0.0.1:2379']}\nunderlayInterface: eth0\n",
    );
    expect(c.backend).toBe("vxlan");
    expect(c.pools.map((p) => [p.cidr, p.blockSize])).toEqual([
      ["10.244.0.0/16", 26],
      ["fd44:7461:7274::/48", 122],
    ]);
    expect(c.socket).toBe("/run/tartan/agent.sock");
    expect(c.metricsAddress).toBe("127.0.0.1:9641");
    expect(c.vxlan).toEqual({ vni: 4096, port: 4789 });
  });

  test("underlayInterface: a name or a form that finds it; a bad form is named with what is wrong", () => {
    const base = "nodeName: n1\ndatastore: {type: local, path: /x}\nunderlayInterface: ";
    for (const v of ["ens5", "default-route", "cidr=10.0.0.0/8,fd00::/8", "interface=^(eth|ens)[0-9]+$"])
      expect(parseAgentConfig(`${base}'${v}'\n`).underlayInterface).toBe(v);
    for (const [v, msg] of [
      ["cidr=10.0.0.0", /underlayInterface.*not in CIDR notation/],
      ["interface=([", /underlayInterface.*not a regular expression/],
      ["a-name-longer-than-15", /underlayInterface.*is not an interface name, interface=REGEX/],
    ] as const)
      expect(() => parseAgentConfig(`${base}'${v}'\n`)).toThrow(msg);
  });

  test("errors name every bad field", () => {
    let err: unknown;
    try {
      parseAgentConfig(
        JSON.stringify({
          nodeName: "N!",
          datastore: { type: "zk" },
          pools: [{ cidr: "10.0.0.0/8", blockSize: 40 }],
        }),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TartanError);
    const m = (err as TartanError).message;
    expect((err as TartanError).code).toBe("agent-config-invalid");
    for (const f of ["nodeName", "datastore", "underlayInterface"]) expect(m).toContain(f);
    expect(() =>
      parseAgentConfig(
        JSON.stringify({
          nodeName: "n",
          datastore: { type: "local", path: "/x" },
          underlayInterface: "eth0",
          pools: [{ cidr: "10.0.0.0/8", blockSize: 40 }],
        }),
      ),
    ).toThrow("blockSize 40");
  });
});

describe("block claims in the datastore", () => {
  const pool = (cidr: string, blockSize: number): IPPoolResource => ({
    apiVersion: TARTAN_API_VERSION,
    kind: KINDS.ipPool,
    metadata: { name: "p" },
    spec: { cidr, blockSize },
  });

  test("claims start at the block the node name hashes to; a taken block is skipped", async () => {
    const ds = new MemoryDatastore();
    // claimStart of "b" and of "other" is block 1 of the four.
    const a = await claimBlock(ds, pool("10.244.0.0/24", 26), "b");
    const b = await claimBlock(ds, pool("10.244.0.0/24", 26), "other");
    expect([a.spec.cidr, b.spec.cidr]).toEqual(["10.244.0.64/26", "10.244.0.128/26"]);
    expect(a.metadata.name).toBe(blockName("10.244.0.64/26"));
    expect(b.spec).toEqual({ cidr: "10.244.0.128/26", pool: "p", node: "other" });
  });

  test("N concurrent claimers of the last free block: exactly one wins, the rest learn the pool is full", async () => {
    const ds = new MemoryDatastore();
    const p = pool("10.244.0.0/25", 26);
    await claimBlock(ds, p, "first");
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => claimBlock(ds, p, `n${i}`)),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect((r.reason as TartanError).code).toBe("ipam-pool-exhausted");
    }
    const blocks = (await ds.list(KINDS.ipamBlock)).items as IPAMBlockResource[];
    expect(blocks.map((b) => b.spec.cidr).sort()).toEqual(["10.244.0.0/26", "10.244.0.64/26"]);
  });

  test("release: kept while an address is in it, CAS-refused when the block changed, else deleted", async () => {
    const ds = new MemoryDatastore();
    const store = new MemoryIpamStore();
    const b = await claimBlock(ds, pool("10.244.0.0/24", 26), "a");
    store.transaction((tx) => tx.setNodeBlocks("net", [b.spec.cidr]));
    reserve(store, "10.244.0.5");
    expect(await releaseBlock(store, ds, "net", b)).toBe("in-use");
    store.transaction((tx) => tx.release("net", "10.244.0.5", "eth0"));
    const changed = await ds.update({ ...b, metadata: { ...b.metadata, labels: { x: "y" } } });
    expect(await releaseBlock(store, ds, "net", b)).toBe("changed");
    expect(await ds.get(KINDS.ipamBlock, b.metadata.name)).toBeDefined();
    store.transaction((tx) => tx.setNodeBlocks("net", [b.spec.cidr]));
    expect(await releaseBlock(store, ds, "net", changed as IPAMBlockResource)).toBe("released");
    expect(await ds.get(KINDS.ipamBlock, b.metadata.name)).toBeUndefined();
    store.transaction((tx) => expect(tx.nodeBlocks("net")).toEqual([]));
  });
});

describe("agent", () => {
  test("registers its Node and claims a first block, written to the local store", async () => {
    const ds = new MemoryDatastore();
    const { agent, store } = makeAgent(ds, "a");
    await agent.start();
    const n = (await ds.get(KINDS.node, "a")) as NodeResource;
    expect(n.spec).toEqual({
      underlayAddress: "198.18.0.2",
      underlaySubnet: "198.18.0.0/15",
      vtepMac: "02:00:00:00:00:01",
    });
    expect(n.status?.ready).toBe(true);
    expect(typeof n.status?.heartbeat).toBe("string");
    expect(await ds.get(KINDS.ipPool, "p4")).toBeDefined();
    store.transaction((tx) => expect(tx.nodeBlocks("net")).toEqual(["10.244.0.0/26"]));
    expect(agent.synced).toBe(true);
  });

  test("re-registration updates the spec with CAS and keeps what others put on the Node", async () => {
    const ds = new MemoryDatastore();
    const created = await ds.create({
      ...node("a", "198.18.9.9"),
      metadata: { name: "a", labels: { zone: "z1" } },
    });
    const n = await registerNode(
      ds,
      "a",
      { underlayAddress: "198.18.0.2", underlaySubnet: "198.18.0.0/15" },
      {},
    );
    expect(n.metadata.labels).toEqual({ zone: "z1" });
    expect(n.spec.underlayAddress).toBe("198.18.0.2");
    expect(n.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
  });

  test("a restarted agent keeps its block instead of claiming another", async () => {
    const ds = new MemoryDatastore();
    const first = makeAgent(ds, "a");
    await first.agent.start();
    await first.agent.stop();
    const second = makeAgent(ds, "a");
    await second.agent.start();
    expect(second.agent.nodeBlocks.owned().map((b) => b.spec.cidr)).toEqual(["10.244.0.0/26"]);
    expect((await ds.list(KINDS.ipamBlock)).items).toHaveLength(1);
  });

  test("nothing is written to the kernel before the first full sync", async () => {
    const ds = new GatedDatastore();
    await ds.create(node("b", "198.18.0.3"));
    await ds.create({
      apiVersion: TARTAN_API_VERSION,
      kind: KINDS.ipamBlock,
      metadata: { name: blockName("10.244.0.192/26") },
      spec: { cidr: "10.244.0.192/26", pool: "p4", node: "b" },
    });
    let open!: () => void;
    ds.gate = new Promise((r) => {
      open = r;
    });
    const { agent, kernel } = makeAgent(ds, "a");
    const started = agent.start();
    await ds.reached;
    agent.resync();
    await agent.idle();
    expect(kernel.applies).toBe(0);
    expect(kernel.setDesiredCalls).toBe(0);
    ds.gate = undefined;
    open();
    await started;
    await agent.idle();
    expect(kernel.applies).toBe(1);
    expect([...kernel.kernel]).toEqual([["10.244.0.192/26", "198.18.0.3"]]);
  });

  test("a burst of changes becomes one apply", async () => {
    const ds = new MemoryDatastore();
    const { agent, kernel } = makeAgent(ds, "a", {
      over: { pools: [{ cidr: "10.245.0.0/16", blockSize: 26 }] },
    });
    await agent.start();
    await agent.idle();
    const before = kernel.applies;
    for (let i = 0; i < 20; i++) {
      await ds.create(node(`n${i}`, `198.18.1.${i + 1}`));
      await ds.create({
        apiVersion: TARTAN_API_VERSION,
        kind: KINDS.ipamBlock,
        metadata: { name: blockName(`10.245.${i + 1}.0/26`) },
        spec: { cidr: `10.245.${i + 1}.0/26`, pool: "x", node: `n${i}` },
      });
    }
    await eventually("all routes", () => kernel.kernel.size === 20, { timeoutMs: 3000, intervalMs: 5 });
    await agent.idle();
    expect(kernel.applies - before).toBeLessThanOrEqual(2);
    // Heartbeats renew the node's lease, write nothing to its Node and trigger nothing.
    const applies = kernel.applies;
    expect((await ds.get(KINDS.lease, "heartbeat.a"))?.spec).toMatchObject({ holder: "a" }); // beat at start
    const nodeVersion = (await ds.get(KINDS.node, "a"))?.metadata.resourceVersion;
    const leaseVersion = (await ds.get(KINDS.lease, "heartbeat.a"))?.metadata.resourceVersion;
    await agent.heartbeat();
    await agent.idle();
    expect(kernel.applies).toBe(applies);
    expect((await ds.get(KINDS.node, "a"))?.metadata.resourceVersion).toBe(nodeVersion!);
    expect((await ds.get(KINDS.lease, "heartbeat.a"))?.metadata.resourceVersion).not.toBe(leaseVersion);
  });

  test("coalescing trigger: triggers during a run cause exactly one more run", async () => {
    let runs = 0;
    let release!: () => void;
    let running!: () => void;
    const firstRun = new Promise<void>((r) => {
      running = r;
    });
    const t = new CoalescingTrigger(
      async () => {
        runs++;
        if (runs === 1) {
          running();
          await new Promise<void>((r) => (release = r));
        }
      },
      () => {},
    );
    t.trigger();
    await firstRun;
    for (let i = 0; i < 10; i++) t.trigger();
    release();
    await t.idle();
    expect(runs).toBe(2);
  });

  test("the periodic resync repairs drift; a failed apply is retried by the next trigger", async () => {
    const ds = new MemoryDatastore();
    await ds.create(node("b", "198.18.0.3"));
    await ds.create({
      apiVersion: TARTAN_API_VERSION,
      kind: KINDS.ipamBlock,
      metadata: { name: blockName("10.244.0.192/26") },
      spec: { cidr: "10.244.0.192/26", pool: "p4", node: "b" },
    });
    const { agent, kernel } = makeAgent(ds, "a");
    await agent.start();
    await agent.idle();
    kernel.kernel.delete("10.244.0.192/26");
    kernel.kernel.set("10.9.9.0/24", "198.18.7.7");
    agent.resync();
    await agent.idle();
    expect([...kernel.kernel]).toEqual([["10.244.0.192/26", "198.18.0.3"]]);
    expect(agent.metrics.resyncs).toBe(1);
    kernel.kernel.clear();
    kernel.failNext = new Error("ip: RTNETLINK answers: busy");
    agent.resync();
    await agent.idle();
    expect(agent.metrics.applyErrors).toBe(1);
    expect(kernel.kernel.size).toBe(0);
    agent.resync();
    await agent.idle();
    expect(kernel.kernel.size).toBe(1);
  });

  test("a compacted watch keeps the kernel as it is and re-lists", async () => {
    const ds = new MemoryDatastore();
    await ds.create(node("b", "198.18.0.3"));
    const { agent, kernel } = makeAgent(ds, "a");
    await agent.start();
    await agent.idle();
    const rev = (await ds.list(KINDS.node)).revision;
    await ds.compact(String(Number(rev) + 100));
    await ds.create({
      apiVersion: TARTAN_API_VERSION,
      kind: KINDS.ipamBlock,
      metadata: { name: blockName("10.244.0.192/26") },
      spec: { cidr: "10.244.0.192/26", pool: "p4", node: "b" },
    });
    await eventually("re-listed with the new block", () => kernel.kernel.has("10.244.0.192/26"), {
      timeoutMs: 3000,
      intervalMs: 5,
    });
    expect(agent.metrics.datastoreErrors.size).toBeGreaterThan(0);
    expect(agent.blocks.live).toBe(true);
  });

  test("the socket API claims a block only when the family's blocks are full, once for concurrent asks", async () => {
    const ds = new MemoryDatastore();
    const { agent, store } = makeAgent(ds, "a");
    await agent.start();
    const api = agentApi(agent);
    const post = (body: unknown) =>
      api(new Request("http://x/v1/blocks", { method: "POST", body: JSON.stringify(body) }));
    let r = await post({ network: "net", family: 4 });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ blocks: ["10.244.0.0/26"] });
    for (let i = 2; i < 63; i++) reserve(store, `10.244.0.${i}`);
    const both = await Promise.all([
      post({ network: "net", family: 4 }),
      post({ network: "net", family: 4 }),
    ]);
    const bodies = (await Promise.all(both.map((x) => x.json()))) as { blocks: string[]; claimed?: string }[];
    expect(bodies.filter((b) => b.claimed)).toEqual([
      { blocks: ["10.244.0.0/26", "10.244.0.64/26"], claimed: "10.244.0.64/26" },
    ]);
    store.transaction((tx) => expect(tx.nodeBlocks("net")).toEqual(["10.244.0.0/26", "10.244.0.64/26"]));
    r = await post({ network: "other", family: 4 });
    expect(r.status).toBe(400);
    r = await post({ network: "net", family: 6 });
    expect(r.status).toBe(409);
    expect(((await r.json()) as { code: string }).code).toBe("agent-no-pool");
    r = await post({ nope: 1 });
    expect(r.status).toBe(400);
    expect((await api(new Request("http://x/v1/healthz"))).status).toBe(200);
  });

  test("empty blocks are released after the grace period; the pool's first block stays", async () => {
    let now = 1_000_000;
    const ds = new MemoryDatastore();
    const { agent, store } = makeAgent(ds, "a", { now: () => now });
    await agent.start();
    for (let i = 2; i < 63; i++) reserve(store, `10.244.0.${i}`, "full");
    await agent.nodeBlocks.claimFor({ network: "net", family: 4 });
    reserve(store, "10.244.0.70", "p2");
    await agent.releaseEmpty();
    // The pod in the second block goes away, and the first block empties too.
    store.transaction((tx) => {
      tx.release("net", "p2", "eth0");
      tx.release("net", "full", "eth0");
    });
    await agent.releaseEmpty();
    now += 59_000;
    await agent.releaseEmpty();
    expect((await ds.list(KINDS.ipamBlock)).items).toHaveLength(2);
    now += 1_000;
    await agent.releaseEmpty();
    const left = (await ds.list(KINDS.ipamBlock)).items as IPAMBlockResource[];
    expect(left.map((b) => b.spec.cidr)).toEqual(["10.244.0.0/26"]);
    store.transaction((tx) => expect(tx.nodeBlocks("net")).toEqual(["10.244.0.0/26"]));
    expect(agent.metrics.blockReleases).toBe(1);
  });

  test("a block that gets an address during the grace period is kept", async () => {
    let now = 0;
    const ds = new MemoryDatastore();
    const { agent, store } = makeAgent(ds, "a", { now: () => now });
    await agent.start();
    for (let i = 2; i < 63; i++) reserve(store, `10.244.0.${i}`, "full");
    await agent.nodeBlocks.claimFor({ network: "net", family: 4 });
    await agent.releaseEmpty();
    now += 30_000;
    reserve(store, "10.244.0.66", "late");
    await agent.releaseEmpty();
    now += 60_000;
    await agent.releaseEmpty();
    expect((await ds.list(KINDS.ipamBlock)).items).toHaveLength(2);
  });

  test("metrics and healthz", async () => {
    const ds = new MemoryDatastore();
    const { agent } = makeAgent(ds, "a");
    const m = metricsApi(agent);
    expect(m(new Request("http://x/healthz")).status).toBe(503);
    await agent.start();
    await agent.idle();
    expect(m(new Request("http://x/healthz")).status).toBe(200);
    const text = await m(new Request("http://x/metrics")).text();
    for (const line of [
      "tartan_agent_synced 1",
      "tartan_agent_applies_total 1",
      'tartan_agent_blocks{scope="node"} 1',
      "tartan_agent_nodes 1",
      "tartan_agent_block_claims_total 1",
      "# TYPE tartan_agent_apply_duration_seconds summary",
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/tartan_agent_apply_duration_seconds_count 1\n/);
    // The process's own memory: the real figures are there (non-zero), as given.
    expect(Number(/\nprocess_resident_memory_bytes (\d+)\n/.exec(text)?.[1])).toBeGreaterThan(1_000_000);
    agent.metrics.memory = () => ({ rss: 7, heapUsed: 5, heapTotal: 6 });
    const fixed = await m(new Request("http://x/metrics")).text();
    for (const line of [
      "process_resident_memory_bytes 7",
      'tartan_agent_js_heap_bytes{state="used"} 5',
      'tartan_agent_js_heap_bytes{state="total"} 6',
    ]) {
      expect(fixed).toContain(line);
    }
  });
});
