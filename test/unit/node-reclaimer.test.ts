// The node reclaimer (decision 0014) on the memory datastore with a manual clock: one holder of
// the lease at a time, taken over when it expires; a silent node marked not ready, then reclaimed
// (its blocks and Node deleted) only when it is silent on the underlay too; a partitioned node
// that still answers keeps everything and is marked ready again when its heartbeat moves.
import { afterEach, describe, expect, test } from "bun:test";
import { Agent } from "../../src/agent/agent.ts";
import { agentApi } from "../../src/agent/agent-api.ts";
import { parseAgentConfig } from "../../src/agent/agent-config.ts";
import { AgentMetrics } from "../../src/agent/agent-metrics.ts";
import { DatastoreLease } from "../../src/agent/datastore-lease.ts";
import { KindMirror } from "../../src/agent/kind-mirror.ts";
import { NodeHeartbeat } from "../../src/agent/node-heartbeat.ts";
import { markedNotReady, NodeReclaimer, readyCondition } from "../../src/agent/node-reclaimer.ts";
import { CREATED_BY_CNI_ANNOTATION } from "../../src/agent/pod-ips.ts";
import type { UnderlayProbe } from "../../src/agent/underlay-probe.ts";
import { calcNodeRouting } from "../../src/calc/node-routing.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { claimBlock } from "../../src/ipam/claim-block.ts";
import { forgetNode } from "../../src/ipam/forget-node.ts";
import { labAgentConfig } from "../../src/lab/lab-agent-config.ts";
import {
  type IPAMBlockResource,
  KINDS,
  type LeaseResource,
  type NodeResource,
} from "../../src/model/cluster-resources.ts";
import { K8S_KINDS, type PodResource } from "../../src/model/k8s-resources.ts";
import { TEST_UNDERLAY, TEST_VTEP_MAC, testAgentConfig } from "../harness/agent-fixtures.ts";
import { clusterNode, ipPool } from "../harness/cluster-objects.ts";
import { eventually } from "../harness/eventually.ts";
import { pod } from "../harness/k8s-objects.ts";
import { ManualTimers } from "../harness/manual-timers.ts";

const NOT_READY_MS = 30_000;
const RECLAIM_MS = 90_000;
const pool = ipPool("default", "10.244.0.0/16", 26);
const underlay = (i: number) => `198.18.0.${10 + i}`;

/** Lets the memory datastore deliver its watch events (it schedules them as macrotasks). */
const settle = () => new Promise((r) => setTimeout(r, 5));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function heartbeat(ds: MemoryDatastore, name: string, at: number): Promise<void> {
  const cur = (await ds.get(KINDS.node, name)) as NodeResource;
  await ds.update({ ...cur, status: { ...cur.status, heartbeat: new Date(at).toISOString(), ready: true } });
}

/** A cluster of `n` nodes with one block each, and a reclaimer per listed agent on a shared clock. */
async function cluster(n: number, agents: string[], probe: UnderlayProbe, writePods?: boolean) {
  const ds = new MemoryDatastore();
  const timers = new ManualTimers();
  const blocks: Record<string, IPAMBlockResource> = {};
  for (let i = 1; i <= n; i++) {
    const name = `node-${i}`;
    await ds.create({
      ...clusterNode(name, { underlayAddress: underlay(i), underlaySubnet: "198.18.0.0/24" }),
      status: { heartbeat: new Date(0).toISOString(), ready: true },
    });
    blocks[name] = await claimBlock(ds, pool, name);
  }
  const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const probed: string[] = [];
  const reclaimers = await Promise.all(
    agents.map(async (me) => {
      const nodes = new KindMirror<NodeResource>(ds, KINDS.node, {
        onChange: () => {},
        onError: () => {},
        setTimeout: timers.setTimeout,
        clearTimeout: timers.clearTimeout,
      });
      await nodes.start();
      cleanups.push(() => nodes.stop());
      const metrics = new AgentMetrics();
      const r = new NodeReclaimer({
        ds,
        nodeName: me,
        nodes,
        notReadyAfterMs: NOT_READY_MS,
        reclaimAfterMs: RECLAIM_MS,
        probe: async (a) => {
          probed.push(a);
          return await probe(a);
        },
        now: () => timers.now,
        timers,
        log: (level, msg, fields) => logs.push({ level, msg, fields }),
        metrics,
        ...(writePods === undefined ? {} : { writePods }),
      });
      cleanups.push(() => r.stop());
      return { r, nodes, metrics };
    }),
  );
  const node = async (name: string) => (await ds.get(KINDS.node, name)) as NodeResource | undefined;
  const blockOwners = async () =>
    ((await ds.list(KINDS.ipamBlock)).items as IPAMBlockResource[]).map((b) => b.spec.node).sort();
  return { ds, timers, blocks, logs, probed, reclaimers, node, blockOwners };
}

/** Advances the clock in ticks of `stepMs`, the live nodes heartbeating, every reclaimer ticking. */
async function run(
  c: Awaited<ReturnType<typeof cluster>>,
  ms: number,
  live: string[],
  stepMs = 5_000,
  /** How the live nodes beat: their Node's status (agents before the leases) or their lease. */
  via: "node" | "lease" = "node",
): Promise<void> {
  const leases = new Map(live.map((n) => [n, new NodeHeartbeat(c.ds, n, NOT_READY_MS, () => c.timers.now)]));
  for (let t = 0; t < ms; t += stepMs) {
    c.timers.advance(stepMs);
    for (const n of live) {
      if (via === "lease") await leases.get(n)!.beat();
      else await heartbeat(c.ds, n, c.timers.now);
    }
    await settle();
    for (const x of c.reclaimers) await x.r.tick();
  }
}

describe("node reclaimer", () => {
  test("a dead node is marked not ready, then its blocks and Node are removed; the others keep theirs", async () => {
    const c = await cluster(3, ["node-1"], async () => "silent" as const);
    const cniPod = pod("default/by-cni", ["10.244.0.130"], { node: "node-3" });
    cniPod.metadata.annotations = { [CREATED_BY_CNI_ANNOTATION]: "true" };
    await c.ds.create(cniPod);
    await c.ds.create(pod("shop/web", ["10.244.0.131"], { node: "node-3" }));
    await c.ds.create(pod("shop/db", ["10.244.0.70"], { node: "node-2" }));
    await run(c, 25_000, ["node-1", "node-2"]);
    expect(markedNotReady((await c.node("node-3"))!)).toBe(false);
    await run(c, 10_000, ["node-1", "node-2"]);
    const cond = readyCondition((await c.node("node-3"))!);
    expect(cond).toMatchObject({ type: "Ready", status: "Unknown", reason: "HeartbeatStale", by: "node-1" });
    expect(markedNotReady((await c.node("node-2"))!)).toBe(false);
    expect(c.reclaimers[0]!.metrics.nodesNotReady).toBe(1);
    expect(c.reclaimers[0]!.metrics.nodeNotReadyMarks).toBe(1);
    expect(await c.blockOwners()).toEqual(["node-1", "node-2", "node-3"]);
    expect(c.probed).toEqual([]);

    await run(c, 60_000, ["node-1", "node-2"]);
    expect(await c.node("node-3")).toBeUndefined();
    expect(await c.blockOwners()).toEqual(["node-1", "node-2"]);
    expect(c.probed).toEqual([underlay(3)]);
    const m = c.reclaimers[0]!.metrics;
    expect([m.nodeReclaims, m.nodeReclaimedBlocks, m.nodesNotReady]).toEqual([1, 1, 0]);
    // Its Pods give their addresses up (they return to the pool); other nodes' Pods are untouched.
    const pods = (await c.ds.list(K8S_KINDS.pod)).items as PodResource[];
    expect(pods.map((p) => [p.metadata.name, p.status?.phase, p.status?.podIPs?.length])).toEqual([
      ["db", "Running", 1],
      ["web", "Failed", 0],
    ]);
    expect(m.render()).toContain("tartan_agent_node_reclaims_total 1");
    expect(c.logs.find((l) => l.msg.startsWith("dead node reclaimed"))?.fields).toMatchObject({
      node: "node-3",
      blocks: [c.blocks["node-3"]!.spec.cidr],
    });
    // With the Node and its block gone, a peer's routing has nothing left for node-3.
    await settle();
    const routing = calcNodeRouting({
      localNode: "node-1",
      backend: "host-gw",
      nodes: [...c.reclaimers[0]!.nodes.items.values()],
      blocks: (await c.ds.list(KINDS.ipamBlock)).items as IPAMBlockResource[],
      underlay: { interface: "eth0", mtu: 1500 },
    });
    expect(JSON.stringify(routing)).toContain(c.blocks["node-2"]!.spec.cidr);
    expect(JSON.stringify(routing)).not.toContain(underlay(3));
    expect(JSON.stringify(routing)).not.toContain(c.blocks["node-3"]!.spec.cidr);
  });

  test("heartbeats as leases (the Nodes never written): the live stay ready, the silent one goes, and so does its lease", async () => {
    const c = await cluster(3, ["node-1"], async () => "silent" as const);
    const nodeVersions = async () =>
      Promise.all(["node-1", "node-2"].map(async (n) => (await c.node(n))?.metadata.resourceVersion));
    const before = await nodeVersions();
    // node-3 beat by lease once, then fell silent.
    await new NodeHeartbeat(c.ds, "node-3", NOT_READY_MS, () => c.timers.now).beat();
    await run(c, 35_000, ["node-1", "node-2"], 5_000, "lease");
    expect(markedNotReady((await c.node("node-2"))!)).toBe(false);
    expect(readyCondition((await c.node("node-3"))!)).toMatchObject({
      status: "Unknown",
      reason: "HeartbeatStale",
    });
    expect(await nodeVersions()).toEqual(before);
    await run(c, 60_000, ["node-1", "node-2"], 5_000, "lease");
    expect(await c.node("node-3")).toBeUndefined();
    expect(await c.blockOwners()).toEqual(["node-1", "node-2"]);
    const leaseNames = async () => (await c.ds.list(KINDS.lease)).items.map((l) => l.metadata.name).sort();
    expect(await leaseNames()).toEqual(["heartbeat.node-1", "heartbeat.node-2", "node-reclaimer"]);
    // A lease whose Node is gone (removed by hand) is dropped once unchanged for the grace.
    await c.ds.delete(KINDS.node, "node-2");
    await run(c, 30_000, ["node-1"], 5_000, "lease");
    expect(await leaseNames()).toContain("heartbeat.node-2");
    await run(c, RECLAIM_MS, ["node-1"], 5_000, "lease");
    expect(await leaseNames()).toEqual(["heartbeat.node-1", "node-reclaimer"]);
  });

  test("a node beating by lease after a Node heartbeat (an upgraded agent) is never marked", async () => {
    const c = await cluster(2, ["node-1"], async () => "silent" as const);
    await run(c, 20_000, ["node-1", "node-2"], 5_000, "node");
    await run(c, 100_000, ["node-1", "node-2"], 5_000, "lease");
    expect(markedNotReady((await c.node("node-2"))!)).toBe(false);
    expect(c.reclaimers[0]!.metrics.nodeNotReadyMarks).toBe(0);
  });

  test("Kubernetes mode (writePods false): the node and its blocks go, its Pods are left to kubelet and the cluster", async () => {
    const c = await cluster(2, ["node-1"], async () => "silent" as const, false);
    await c.ds.create(pod("shop/web", ["10.244.0.131"], { node: "node-2" }));
    await run(c, 100_000, ["node-1"]);
    expect(await c.node("node-2")).toBeUndefined();
    expect(await c.blockOwners()).toEqual(["node-1"]);
    const pods = (await c.ds.list(K8S_KINDS.pod)).items as PodResource[];
    expect(pods.map((p) => [p.metadata.name, p.status?.phase, p.status?.podIPs?.length])).toEqual([
      ["web", "Running", 1],
    ]);
  });

  test("a silent node that still answers on the underlay is marked not ready but never reclaimed; its heartbeat lifts the mark", async () => {
    const c = await cluster(2, ["node-1"], async () => "answers" as const);
    await run(c, 200_000, ["node-1"]);
    expect(readyCondition((await c.node("node-2"))!)?.status).toBe("Unknown");
    expect(await c.blockOwners()).toEqual(["node-1", "node-2"]);
    const m = c.reclaimers[0]!.metrics;
    expect([m.nodeReclaims, m.nodeReclaimsSpared]).toEqual([0, 1]);
    expect(c.logs.filter((l) => l.msg.includes("answers on the underlay"))).toHaveLength(1);
    expect(c.probed.length).toBeGreaterThan(1); // asked again every tick: never reclaimed on one answer

    // The partition heals: the node's agent heartbeats again.
    await run(c, 10_000, ["node-1", "node-2"]);
    expect(readyCondition((await c.node("node-2"))!)).toMatchObject({
      status: "True",
      reason: "HeartbeatResumed",
    });
    expect(m.nodeReadyMarks).toBe(1);
    expect(m.nodesNotReady).toBe(0);
  });

  test("a probe that cannot run spares the node too (never reclaim on a broken probe)", async () => {
    const c = await cluster(2, ["node-1"], async () => "probe-failed" as const);
    await run(c, 200_000, ["node-1"]);
    expect(await c.blockOwners()).toEqual(["node-1", "node-2"]);
    expect(c.logs.filter((l) => l.msg.includes("probe could not run"))).toHaveLength(1);
    expect(c.reclaimers[0]!.metrics.nodeReclaims).toBe(0);
  });

  test("a heartbeat that moves resets the count: a slow but live node is never marked", async () => {
    const c = await cluster(2, ["node-1"], async () => "silent" as const);
    for (let i = 0; i < 10; i++) {
      await run(c, 25_000, ["node-1"]);
      await heartbeat(c.ds, "node-2", c.timers.now);
    }
    expect(markedNotReady((await c.node("node-2"))!)).toBe(false);
    expect(await c.blockOwners()).toEqual(["node-1", "node-2"]);
  });

  test("exactly one agent acts: the others only wait for the lease", async () => {
    const c = await cluster(4, ["node-1", "node-2", "node-3"], async () => "silent" as const);
    await run(c, 120_000, ["node-1", "node-2", "node-3"]);
    const leaders = c.reclaimers.filter((x) => x.metrics.reclaimerLeader);
    expect(leaders).toHaveLength(1);
    expect(c.reclaimers.map((x) => x.metrics.nodeReclaims).sort()).toEqual([0, 0, 1]);
    expect(c.reclaimers.map((x) => x.metrics.nodeNotReadyMarks).sort()).toEqual([0, 0, 1]);
    expect(await c.node("node-4")).toBeUndefined();
  });

  test("the holder dies: another agent takes the lease over once it expired, and judges afresh", async () => {
    const c = await cluster(3, ["node-1", "node-2"], async () => "silent" as const);
    await run(c, 10_000, ["node-1", "node-2", "node-3"]);
    const holder = ((await c.ds.get(KINDS.lease, "node-reclaimer")) as LeaseResource).spec.holder;
    const [dead, other] = holder === "node-1" ? c.reclaimers : [c.reclaimers[1]!, c.reclaimers[0]!];
    const otherName = holder === "node-1" ? "node-2" : "node-1";
    // It crashes: no renewal, no hand-back. The lease (10 s here) is not taken before it expired.
    c.reclaimers.splice(c.reclaimers.indexOf(dead!), 1);
    await run(c, 5_000, [otherName, "node-3"]);
    expect(((await c.ds.get(KINDS.lease, "node-reclaimer")) as LeaseResource).spec.holder).toBe(holder);
    expect(other!.metrics.reclaimerLeader).toBe(false);
    await run(c, 10_000, [otherName, "node-3"]);
    expect(((await c.ds.get(KINDS.lease, "node-reclaimer")) as LeaseResource).spec.holder).toBe(otherName);
    expect(other!.metrics.reclaimerLeader).toBe(true);
    // The dead holder's Node is judged like any other: marked, then reclaimed.
    await run(c, 100_000, [otherName, "node-3"]);
    expect(await c.node(holder)).toBeUndefined();
    expect(await c.node("node-3")).toBeDefined();
  });
});

test("nothing is judged while the Node mirror does not follow the datastore", async () => {
  const c = await cluster(2, ["node-1"], async () => "silent" as const);
  await run(c, 10_000, ["node-1"]);
  c.reclaimers[0]!.nodes.live = false; // as after a failed watch, before the re-list
  await run(c, 200_000, ["node-1"]);
  expect(markedNotReady((await c.node("node-2"))!)).toBe(false);
  expect(await c.blockOwners()).toEqual(["node-1", "node-2"]);
});

describe("a node reclaimed while alive comes back without duplicate addresses", () => {
  async function liveAgent(ds: MemoryDatastore, name: string, store = new MemoryIpamStore()) {
    const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const agent = new Agent({
      config: testAgentConfig(name),
      ds,
      store,
      managers: [],
      underlay: TEST_UNDERLAY,
      vtepMac: TEST_VTEP_MAC,
      log: (level, msg, fields) => logs.push({ level, msg, fields }),
    });
    cleanups.push(() => agent.stop());
    await agent.start();
    return { agent, store, logs };
  }
  const owners = async (ds: MemoryDatastore) =>
    ((await ds.list(KINDS.ipamBlock)).items as IPAMBlockResource[]).map(
      (b) => `${b.spec.cidr} ${b.spec.node}`,
    );

  test("its agent re-claims the exact block its pods hold addresses in; its local list keeps it", async () => {
    const ds = new MemoryDatastore();
    const { agent, store } = await liveAgent(ds, "node-1");
    const [block] = agent.nodeBlocks.owned();
    // node-1's claims start at block 3 of the pool (claimStart of its name).
    expect(block?.spec.cidr).toBe("10.244.0.192/26");
    store.transaction((tx) =>
      tx.reserve({ network: "net", ip: "10.244.0.199", containerId: "c1", ifname: "eth0", rangeKey: "k" }),
    );
    await forgetNode(ds, "node-1"); // what the reclaimer does to a node it believes dead
    await eventually("the block re-claimed for node-1", () => owners(ds), {
      until: (o) => o.join() === "10.244.0.192/26 node-1",
      timeoutMs: 3000,
    });
    expect(store.transaction((tx) => tx.nodeBlocks("net"))).toEqual(["10.244.0.192/26"]);
    // Another node whose search starts at the same block (node-5: block 3 too) gets the next
    // one, wrapping around, not the one with node-1's pods in it.
    expect((await claimBlock(ds, ipPool("p4", "10.244.0.0/24", 26), "node-5")).spec.cidr).toBe(
      "10.244.0.0/26",
    );
  });

  test("GET /v1/status lists the cluster's Nodes with the reclaimer's readiness and their blocks", async () => {
    const ds = new MemoryDatastore();
    const { agent } = await liveAgent(ds, "node-1");
    await ds.create({
      ...clusterNode("node-2", { underlayAddress: "198.18.0.3", underlaySubnet: "198.18.0.0/15" }),
      status: {
        heartbeat: "2026-01-01T00:00:00.000Z",
        conditions: [
          {
            type: "Ready",
            status: "Unknown",
            reason: "HeartbeatStale",
            lastTransitionTime: "2026-01-01T00:03:00.000Z",
          },
        ],
      },
    });
    await eventually("node-2 mirrored", () => agent.nodes.items.has("node-2"), { timeoutMs: 3000 });
    const res = await agentApi(agent)(new Request("http://tartan-agent/v1/status"));
    const body = (await res.json()) as { clusterNodes: unknown };
    expect(body.clusterNodes).toEqual([
      expect.objectContaining({ name: "node-1", ready: true, blocks: ["10.244.0.192/26"] }),
      {
        name: "node-2",
        underlayAddress: "198.18.0.3",
        ready: false,
        readyReason: "HeartbeatStale",
        heartbeat: "2026-01-01T00:00:00.000Z",
        blocks: [],
      },
    ]);
  });

  test("a block re-owned by another node meanwhile is reported, not taken back", async () => {
    const ds = new MemoryDatastore();
    const { agent, store } = await liveAgent(ds, "node-1");
    store.transaction((tx) =>
      tx.reserve({ network: "net", ip: "10.244.0.199", containerId: "c1", ifname: "eth0", rangeKey: "k" }),
    );
    await agent.stop();
    await forgetNode(ds, "node-1");
    // node-5's search starts where node-1's does (block 3), so it takes node-1's old block.
    await claimBlock(ds, ipPool("p4", "10.244.0.0/24", 26), "node-5");
    const again = await liveAgent(ds, "node-1", store); // the node restarts with its local store
    expect(again.logs.find((l) => l.msg.startsWith("pods here hold addresses"))?.fields).toMatchObject({
      block: "10.244.0.192/26",
      owner: "node-5",
    });
    expect(await owners(ds)).toEqual(["10.244.0.0/26 node-1", "10.244.0.192/26 node-5"]);
  });
});

describe("datastore lease", () => {
  test("claimed once, renewed by its holder, taken over only after it stayed unchanged for its duration", async () => {
    const ds = new MemoryDatastore();
    let now = 0;
    const mk = (holder: string) =>
      new DatastoreLease({ ds, name: "l", holder, durationMs: 10_000, now: () => now });
    const a = mk("a");
    const b = mk("b");
    expect(await a.hold()).toBe(true);
    expect(await b.hold()).toBe(false);
    now = 8_000;
    expect(await a.hold()).toBe(true); // renewed: b's count starts again from the new version
    expect(await b.hold()).toBe(false);
    now = 17_000;
    expect(await b.hold()).toBe(false); // 9 s since b saw the renewal
    expect(a.held).toBe(true);
    now = 19_000; // a stopped renewing; its own validity ended at 18 s, before b may take over
    expect(a.held).toBe(false);
    expect(await b.hold()).toBe(true);
    expect(((await ds.get(KINDS.lease, "l")) as LeaseResource).spec).toMatchObject({
      holder: "b",
      transitions: 1,
    });
    expect(await a.hold()).toBe(false);
  });

  test("two agents racing for an expired lease: one wins (compare-and-swap)", async () => {
    const ds = new MemoryDatastore();
    let now = 0;
    const mk = (holder: string) =>
      new DatastoreLease({ ds, name: "l", holder, durationMs: 1_000, now: () => now });
    await mk("old").hold();
    const [b, c] = [mk("b"), mk("c")];
    await b.hold();
    await c.hold();
    now = 5_000;
    const won = await Promise.all([b.hold(), c.hold()]);
    expect(won.filter(Boolean)).toHaveLength(1);
  });
});

describe("agent config: dead-node graces", () => {
  const base = "nodeName: n1\ndatastore: {type: local, path: /tmp/x.db}\nunderlayInterface: eth0\n";
  test("defaults, and the graces must be ordered", () => {
    const c = parseAgentConfig(base);
    expect([c.nodeNotReadyAfterSeconds, c.nodeReclaimAfterSeconds, c.nodeReclaimProbe]).toEqual([
      180,
      900,
      "ping",
    ]);
    expect(() => parseAgentConfig(`${base}heartbeatSeconds: 30\nnodeNotReadyAfterSeconds: 20\n`)).toThrow(
      /nodeNotReadyAfterSeconds: must be longer than heartbeatSeconds/,
    );
    expect(() =>
      parseAgentConfig(`${base}nodeNotReadyAfterSeconds: 60\nnodeReclaimAfterSeconds: 30\n`),
    ).toThrow(/nodeReclaimAfterSeconds: must be 0/);
    expect(
      parseAgentConfig(`${base}nodeReclaimAfterSeconds: 0\nnodeReclaimProbe: none\n`).nodeReclaimAfterSeconds,
    ).toBe(0);
  });
});

describe("lab: tuned graces reach every node's agent config", () => {
  test("lab up's timings are agent config fields the agent accepts", () => {
    const raw = labAgentConfig({
      nodeName: "node-1",
      nodeDir: "/run/tartan-lab/x/node-1",
      etcdEndpoint: "http://198.18.0.1:2379",
      backend: "vxlan",
      network: "tartan-lab",
      podCidr: "10.244.0.0/16",
      tuning: { heartbeatSeconds: 1, nodeNotReadyAfterSeconds: 6, nodeReclaimAfterSeconds: 15 },
    });
    const c = parseAgentConfig(JSON.stringify(raw));
    expect([c.heartbeatSeconds, c.nodeNotReadyAfterSeconds, c.nodeReclaimAfterSeconds]).toEqual([1, 6, 15]);
  });
});
