// The agent's side of `tartan status` (GET /v1/node/status): one real agent over the memory
// datastore and the fake kernel, with the real calc + reconciler, so the peer states are the
// reconciler's own view of the kernel. Kernel drift, a lagging watch and a silent datastore are
// planted and must show up in the report.
import { afterEach, describe, expect, test } from "bun:test";
import { Agent } from "../../src/agent/agent.ts";
import { agentApi } from "../../src/agent/agent-api.ts";
import { CalcKernelPort } from "../../src/agent/calc-kernel-port.ts";
import { KernelReconciler } from "../../src/agent/kernel-reconciler.ts";
import { LogRing } from "../../src/agent/log-ring.ts";
import { datastoreHealth } from "../../src/agent/node-status.ts";
import { peerProgramStates } from "../../src/agent/peer-program-state.ts";
import { registerNode } from "../../src/agent/register-node.ts";
import { routingManager } from "../../src/agent/routing-manager.ts";
import { FakeDataplane } from "../../src/dataplane/fake/fake-dataplane.ts";
import type { ListResult } from "../../src/datastore/datastore.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import type { NodeStatusReport } from "../../src/model/agent-api.ts";
import { KINDS, type NodeResource } from "../../src/model/cluster-resources.ts";
import { testAgentConfig } from "../harness/agent-fixtures.ts";
import { ipamBlock } from "../harness/cluster-objects.ts";
import { eventually } from "../harness/eventually.ts";

/** A memory datastore whose lists can be made to hang (a datastore that stopped answering). */
class SilentDatastore extends MemoryDatastore {
  silent = false;
  override async list(kind: string, namespace?: string): Promise<ListResult> {
    if (this.silent) await new Promise(() => {});
    return super.list(kind, namespace);
  }
}

const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});

async function setup(backend = "vxlan") {
  const ds = new SilentDatastore();
  const dp = new FakeDataplane();
  await dp.apply(null, [
    { op: "bridge-add", name: "eth0", mtu: 1500 },
    { op: "link-set", name: "eth0", up: true },
    { op: "addr-add", dev: "eth0", cidr: "198.18.0.2/15" },
  ]);
  // The peer: its Node (with a VTEP MAC) and one block.
  await registerNode(
    ds,
    "b",
    { underlayAddress: "198.18.0.3", underlaySubnet: "198.18.0.0/15", vtepMac: "02:00:00:00:00:02" },
    { heartbeat: new Date().toISOString(), ready: true },
  );
  await ds.create(ipamBlock("10.244.0.64/26", "b", "p4"));
  const ring = new LogRing(10);
  const agent = new Agent({
    config: testAgentConfig("a", { backend }),
    ds,
    store: new MemoryIpamStore(),
    managers: [routingManager(new CalcKernelPort(new KernelReconciler(dp), () => {}))],
    underlay: { interface: "eth0", address: "198.18.0.2", subnet: "198.18.0.0/15", mtu: 1500 },
    vtepMac: "02:00:00:00:00:01",
    log: ring.wrap(() => {}),
  });
  agents.push(agent);
  await agent.start();
  await agent.idle();
  const api = agentApi(agent, ring);
  const status = async () =>
    (await (await api(new Request("http://x/v1/node/status"))).json()) as NodeStatusReport;
  return { ds, dp, agent, api, status };
}

describe("GET /v1/node/status", () => {
  test("a healthy node: synced, datastore caught up, the peer's route, neighbour and FDB in the kernel", async () => {
    const { status } = await setup();
    const r = await status();
    expect(r.name).toBe("a");
    expect(r.backend).toBe("vxlan");
    expect(r.synced).toBe(true);
    expect(r.notLive).toEqual([]);
    expect(typeof r.inSyncSince).toBe("string");
    expect(r.datastore).toMatchObject({ reachable: true, behind: 0 });
    expect(r.routingProblems).toEqual([]);
    expect(r.peers).toEqual([
      {
        name: "b",
        ok: true,
        routes: [{ dst: "10.244.0.64/26", route: "via 198.18.0.3 dev tartan.vxlan onlink", state: "ok" }],
        neighbour: { ip: "198.18.0.3", mac: "02:00:00:00:00:02", state: "ok" },
        fdb: { mac: "02:00:00:00:00:02", dst: "198.18.0.3", state: "ok" },
      },
    ]);
    const routing = r.lastApply.find((a) => a.manager === "routing");
    expect(routing?.errors).toBe(0);
    expect(routing?.changes).toBeGreaterThan(0);
    expect(r.blocks).toEqual(["10.244.0.0/26"]);
    expect(r.addresses).toBe(0);
  });

  test("drift: a deleted route and a wrong neighbour are named per peer", async () => {
    const { dp, status } = await setup();
    await dp.apply(null, [
      { op: "route-del", dst: "10.244.0.64/26", family: 4, proto: 201 },
      { op: "neigh-replace", dev: "tartan.vxlan", ip: "198.18.0.3", mac: "02:00:00:00:00:99" },
    ]);
    const [peer] = (await status()).peers;
    expect(peer?.ok).toBe(false);
    expect(peer?.routes[0]?.state).toBe("missing");
    expect(peer?.neighbour?.state).toBe("differs");
    expect(peer?.problem).toContain("route 10.244.0.64/26 via 198.18.0.3 dev tartan.vxlan onlink missing");
    expect(peer?.problem).toContain("neighbour 198.18.0.3 is 02:00:00:00:00:99, want 02:00:00:00:00:02");
  });

  test("the VXLAN device gone: a problem of the node and of every peer routed through it", async () => {
    const { dp, status } = await setup();
    await dp.apply(null, [{ op: "link-del", name: "tartan.vxlan" }]);
    const r = await status();
    expect(r.routingProblems).toContain("the VXLAN device tartan.vxlan is missing");
    expect(r.peers[0]?.problem).toStartWith("the VXLAN device tartan.vxlan is missing");
  });

  test("a watch that lags: objects the mirror holds at an older version are counted", async () => {
    const { ds, agent, status } = await setup();
    agent.nodes.stop(); // the watch stops following: the next change is missed
    const b = (await ds.get(KINDS.node, "b")) as NodeResource;
    await ds.update({ ...b, metadata: { ...b.metadata, labels: { x: "y" } } });
    const r = await status();
    expect(r.datastore).toMatchObject({ reachable: true, behind: 1, behindKinds: { Node: 1 } });
  });

  test("a datastore that does not answer is reported within the bound, not waited for", async () => {
    const { ds, agent } = await setup();
    ds.silent = true;
    const t0 = performance.now();
    const h = await datastoreHealth(agent, 150);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(h).toEqual({ reachable: false, error: "listing the datastore: no answer within 150 ms" });
  });

  test("host-gw to a peer on another subnet: the block is not routed, and why", async () => {
    const { ds, status } = await setup("host-gw");
    await registerNode(
      ds,
      "c",
      { underlayAddress: "10.9.0.3", underlaySubnet: "10.9.0.0/24" },
      { heartbeat: new Date().toISOString(), ready: true },
    );
    await ds.create(ipamBlock("10.244.0.128/26", "c", "p4"));
    await eventually("peer c known", async () => (await status()).peers.some((p) => p.name === "c"), {
      timeoutMs: 5000,
    });
    const c = (await status()).peers.find((p) => p.name === "c");
    expect(c?.ok).toBe(false);
    expect(c?.routes).toEqual([{ dst: "10.244.0.128/26", state: "not-routed" }]);
    expect(c?.problem).toContain("block 10.244.0.128/26 not routed");
  });

  test("GET /v1/log: the last lines the agent logged, bounded by the ring", async () => {
    const { agent, api } = await setup();
    for (let i = 0; i < 20; i++) agent.log("info", `line ${i}`);
    const { lines } = (await (await api(new Request("http://x/v1/log?lines=3"))).json()) as {
      lines: string[];
    };
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["line 17", "line 18", "line 19"]);
  });
});

describe("peer states for a block the backend leaves to another router (BGP through BIRD)", () => {
  const base = {
    localNode: "a",
    nodes: ["a", "b"],
    blocks: [ipamBlock("10.244.0.64/26", "b", "p4")],
    desired: { routes: [], neighbours: [], fdb: [] },
    problems: [],
  };
  test("a route to it from any source (proto bird) is ok; none is missing, naming bgp status", () => {
    const withBird = peerProgramStates({
      ...base,
      actual: {
        routes: [
          {
            dst: "10.244.0.64/26",
            family: 4,
            via: "198.18.0.3",
            dev: "eth0",
            scope: "global",
            proto: 12,
            table: 254,
          },
        ],
        neighbours: [],
        fdb: [],
      },
    });
    expect(withBird.peers).toEqual([
      {
        name: "b",
        ok: true,
        routes: [{ dst: "10.244.0.64/26", route: "via 198.18.0.3 dev eth0 proto 12", state: "ok" }],
      },
    ]);
    const without = peerProgramStates({ ...base, actual: { routes: [], neighbours: [], fdb: [] } });
    expect(without.peers[0]?.ok).toBe(false);
    expect(without.peers[0]?.problem).toBe(
      "no route to block 10.244.0.64/26 (left to the backend's router: see tartan bgp status)",
    );
  });
});
