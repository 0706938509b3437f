import { beforeEach, describe, expect, test } from "bun:test";
import { diffKernelState } from "../../src/agent/kernel-diff.ts";
import { KernelReconciler } from "../../src/agent/kernel-reconciler.ts";
import { calcNodeRouting, type NodeRoutingInput } from "../../src/calc/node-routing.ts";
import { FakeDataplane } from "../../src/dataplane/fake/fake-dataplane.ts";
import type { RoutingBackendName } from "../../src/model/routing-backend.ts";
import { clusterNode, ipamBlock } from "../harness/cluster-objects.ts";

const node = (name: string, underlayAddress: string, underlaySubnet: string, vtepMac: string) =>
  clusterNode(name, { underlayAddress, underlaySubnet, vtepMac });
const block = (cidr: string, nodeName: string) => ipamBlock(cidr, nodeName, "p");

const NODES = [
  node("a", "198.18.0.1", "198.18.0.0/24", "02:aa:00:00:00:01"),
  node("b", "198.18.0.2", "198.18.0.0/24", "02:aa:00:00:00:02"),
  node("c", "198.18.1.3", "198.18.1.0/24", "02:aa:00:00:00:03"),
];
const BLOCKS = [
  block("10.244.1.0/26", "a"),
  block("fd00:244::/122", "a"),
  block("10.244.2.0/26", "b"),
  block("fd00:244::40/122", "b"),
  block("10.244.3.0/26", "c"),
  block("fd00:244::80/122", "c"),
];

function desired(backend: RoutingBackendName, over: Partial<NodeRoutingInput> = {}) {
  return calcNodeRouting({
    localNode: "a",
    nodes: NODES,
    blocks: BLOCKS,
    backend,
    underlay: { interface: "eth0", mtu: 1500 },
    ...over,
  }).state;
}

/** What tartan's inter-node part of the kernel looks like, for before/after comparisons. */
async function snapshot(dp: FakeDataplane) {
  return {
    link: await dp.link(null, "tartan.vxlan"),
    routes: [...(await dp.routes(null, 4)), ...(await dp.routes(null, 6))],
    neighbours: await dp.neighbours(null),
    fdb: await dp.fdb(null, "tartan.vxlan"),
  };
}

describe("KernelReconciler (fake kernel)", () => {
  let dp: FakeDataplane;
  let rec: KernelReconciler;

  beforeEach(async () => {
    dp = new FakeDataplane();
    dp.addNetns("/run/netns/pod");
    // The node: an underlay link, a routed pod (proto 201 /32 through its veth), a static route.
    await dp.apply(null, [
      { op: "bridge-add", name: "eth0", mtu: 1500 },
      { op: "link-set", name: "eth0", up: true },
      { op: "addr-add", dev: "eth0", cidr: "198.18.0.1/24" },
      { op: "route-add", dst: "default", family: 4, via: "198.18.0.254" },
      { op: "veth-add", name: "tt0a1b2c3d4e5", peer: "eth0", peerNetns: "/run/netns/pod", mtu: 1450 },
      { op: "link-set", name: "tt0a1b2c3d4e5", up: true },
      { op: "route-add", dst: "10.244.1.5/32", family: 4, dev: "tt0a1b2c3d4e5", scope: "link", proto: 201 },
      { op: "route-add", dst: "fd00:244::5/128", family: 6, dev: "tt0a1b2c3d4e5", proto: 201 },
      { op: "neigh-replace", dev: "tt0a1b2c3d4e5", ip: "10.244.1.5", mac: "0a:58:0a:f4:01:05" },
    ]);
    dp.resetCounters();
    rec = new KernelReconciler(dp);
  });

  test("setDesired is synchronous and writes nothing; apply before any desired state writes nothing", async () => {
    expect(await rec.apply()).toEqual({ added: 0, changed: 0, removed: 0, unchanged: 0, conflicts: [] });
    expect(rec.dirty).toBe(false);
    const ret = rec.setDesired(desired("vxlan"));
    expect(ret).toBeUndefined();
    expect(rec.dirty).toBe(true);
    expect(dp.writes).toBe(0);
    await rec.apply();
    expect(rec.dirty).toBe(false);
  });

  test("vxlan: the first apply writes everything in one apply; the second writes nothing", async () => {
    const before = await snapshot(dp);
    rec.setDesired(desired("vxlan"));
    // device + 6 routes (2 blackholes, 4 remote) + 4 neighbours + 2 FDB entries
    expect(await rec.apply()).toEqual({ added: 13, changed: 0, removed: 0, unchanged: 0, conflicts: [] });
    expect(dp.applyCalls).toBe(1);
    const after = await snapshot(dp);
    expect(after.link).toMatchObject({ kind: "vxlan", mtu: 1450, up: true, mac: "02:aa:00:00:00:01" });
    expect(after.link?.vxlan).toEqual({
      vni: 4096,
      dstport: 4789,
      local: "198.18.0.1",
      dev: "eth0",
      learning: false,
    });
    expect(after.routes.find((r) => r.dst === "10.244.3.0/26")).toEqual({
      dst: "10.244.3.0/26",
      family: 4,
      dev: "tartan.vxlan",
      via: "198.18.1.3",
      scope: "global",
      proto: 201,
      table: 254,
      onlink: true,
    });
    expect(after.routes.find((r) => r.dst === "10.244.1.0/26")?.type).toBe("blackhole");
    expect(after.fdb).toHaveLength(2);
    // The pod's route and neighbour and the default route are as they were.
    for (const r of before.routes) expect(after.routes).toContainEqual(r);
    expect(after.neighbours).toContainEqual(before.neighbours[0]!);

    dp.resetCounters();
    rec.setDesired(desired("vxlan"));
    expect(await rec.apply()).toEqual({ added: 0, changed: 0, removed: 0, unchanged: 13, conflicts: [] });
    expect(dp.writes).toBe(0);
    expect(dp.applyCalls).toBe(0);
    expect(await snapshot(dp)).toEqual(after);
  });

  test("drift is repaired: a deleted route, a moved FDB entry, a wrong neighbour and an extra proto-201 route", async () => {
    rec.setDesired(desired("vxlan"));
    await rec.apply();
    const good = await snapshot(dp);
    await dp.apply(null, [
      { op: "route-del", dst: "10.244.2.0/26", family: 4 },
      { op: "fdb-replace", dev: "tartan.vxlan", mac: "02:aa:00:00:00:03", dst: "198.18.9.9" },
      { op: "neigh-replace", dev: "tartan.vxlan", ip: "fe80::aa:ff:fe00:2", mac: "02:bb:00:00:00:00" },
      { op: "neigh-replace", dev: "tartan.vxlan", ip: "198.18.7.7", mac: "02:bb:00:00:00:00" },
      { op: "route-add", dst: "10.99.0.0/16", family: 4, via: "198.18.0.9", proto: 201 },
    ]);
    dp.resetCounters();
    expect(await rec.apply()).toEqual({ added: 1, changed: 2, removed: 2, unchanged: 10, conflicts: [] });
    expect(dp.applyCalls).toBe(1);
    const written: string[] = dp.applied.map((a) => a.op.op).sort();
    expect(written).toEqual(["fdb-replace", "neigh-del", "neigh-replace", "route-add", "route-del"]);
    const repaired = await snapshot(dp);
    expect(repaired.fdb.sort((a, b) => a.mac.localeCompare(b.mac))).toEqual(
      good.fdb.sort((a, b) => a.mac.localeCompare(b.mac)),
    );
    expect(new Set(repaired.routes.map((r) => r.dst))).toEqual(new Set(good.routes.map((r) => r.dst)));
    expect(repaired.neighbours.length).toBe(good.neighbours.length);
  });

  test("a node leaving the desired state takes its routes, neighbours and FDB entry with it", async () => {
    rec.setDesired(desired("vxlan"));
    await rec.apply();
    rec.setDesired(
      desired("vxlan", { nodes: NODES.slice(0, 2), blocks: BLOCKS.filter((b) => b.spec.node !== "c") }),
    );
    dp.resetCounters();
    expect(await rec.apply()).toMatchObject({ added: 0, changed: 0, removed: 5 });
    const s = await snapshot(dp);
    expect(s.routes.some((r) => r.dst === "10.244.3.0/26" || r.dst === "fd00:244::80/122")).toBe(false);
    expect(s.neighbours.some((n) => n.ip === "198.18.1.3" || n.ip === "fe80::aa:ff:fe00:3")).toBe(false);
    expect(s.fdb.map((f) => f.mac)).toEqual(["02:aa:00:00:00:02"]);
    expect(s.link).toBeDefined();
  });

  test("backend switches: vxlan → host-gw deletes the device, host-gw → cross-subnet creates it again", async () => {
    rec.setDesired(desired("vxlan"));
    await rec.apply();
    rec.setDesired(desired("host-gw"));
    dp.resetCounters();
    const toHostGw = await rec.apply();
    expect(toHostGw.removed).toBe(1 + 3 + 4 + 2); // device; c's 2 and b's v6 route; neighbours; FDB
    expect(dp.applyCalls).toBe(1);
    let s = await snapshot(dp);
    expect(s.link).toBeUndefined();
    expect(s.fdb).toEqual([]);
    expect(s.routes.find((r) => r.dst === "10.244.2.0/26")).toEqual({
      dst: "10.244.2.0/26",
      family: 4,
      dev: "eth0",
      via: "198.18.0.2",
      scope: "global",
      proto: 201,
      table: 254,
    });
    expect(s.routes.some((r) => r.dst === "10.244.3.0/26")).toBe(false);

    rec.setDesired(desired("cross-subnet"));
    await rec.apply();
    s = await snapshot(dp);
    expect(s.link?.kind).toBe("vxlan");
    expect(s.routes.find((r) => r.dst === "10.244.2.0/26")?.dev).toBe("eth0");
    expect(s.routes.find((r) => r.dst === "10.244.3.0/26")?.dev).toBe("tartan.vxlan");
    expect(s.fdb).toEqual([{ dev: "tartan.vxlan", mac: "02:aa:00:00:00:03", dst: "198.18.1.3" }]);
    dp.resetCounters();
    await rec.apply();
    expect(dp.writes).toBe(0);
  });

  test("device attributes: an MTU change is tuned in place, a new local address recreates the device", async () => {
    rec.setDesired(desired("vxlan"));
    await rec.apply();
    rec.setDesired(desired("vxlan", { underlay: { interface: "eth0", mtu: 1400 } }));
    dp.resetCounters();
    expect(await rec.apply()).toMatchObject({ added: 0, changed: 1, removed: 0 });
    expect(dp.applied.map((a) => a.op)).toEqual([
      { op: "link-set", name: "tartan.vxlan", mtu: 1350, up: true },
    ]);

    const moved = [node("a", "198.18.0.11", "198.18.0.0/24", "02:aa:00:00:00:01"), ...NODES.slice(1)];
    rec.setDesired(desired("vxlan", { nodes: moved }));
    dp.resetCounters();
    const stats = await rec.apply();
    expect(stats).toMatchObject({ changed: 1, removed: 0, added: 4 + 4 + 2 });
    expect(dp.applied.slice(0, 2).map((a) => a.op.op)).toEqual(["link-del", "vxlan-add"]);
    expect((await dp.link(null, "tartan.vxlan"))?.vxlan?.local).toBe("198.18.0.11");
    expect((await dp.fdb(null, "tartan.vxlan")).length).toBe(2);
    dp.resetCounters();
    await rec.apply();
    expect(dp.writes).toBe(0);
  });

  test("routes tartan does not own are never touched: pod routes stay, a foreign route at a block is a conflict", async () => {
    await dp.apply(null, [
      { op: "route-add", dst: "10.244.2.0/26", family: 4, via: "198.18.0.77", proto: 4 },
    ]);
    rec.setDesired(desired("host-gw"));
    const stats = await rec.apply();
    expect(stats.conflicts).toEqual([expect.stringMatching(/^10\.244\.2\.0\/26: .*not proto 201/)]);
    const routes = await dp.routes(null, 4);
    expect(routes.find((r) => r.dst === "10.244.2.0/26")).toMatchObject({ via: "198.18.0.77", proto: 4 });
    // An empty desired state removes every owned route, and only those.
    rec.setDesired({ routes: [], neighbours: [], fdb: [] });
    await rec.apply();
    expect((await dp.routes(null, 4)).map((r) => r.dst).sort()).toEqual(
      ["10.244.1.5/32", "10.244.2.0/26", "198.18.0.0/24", "default"].sort(),
    );
    expect((await dp.routes(null, 6)).map((r) => r.dst)).toEqual(["fd00:244::5/128"]);
    expect(await dp.neighbours(null)).toHaveLength(1);
  });

  test("bgp: BIRD's routes (proto bird, 12) to remote blocks are not the reconciler's: kept, no conflict", async () => {
    const bird = [
      { op: "route-add", dst: "10.244.2.0/26", family: 4, via: "198.18.0.2", dev: "eth0", proto: 12 },
      { op: "route-add", dst: "10.244.3.0/26", family: 4, via: "198.18.0.254", proto: 12 },
      { op: "route-add", dst: "fd00:244::40/122", family: 6, type: "blackhole", proto: 12 },
    ] as const;
    await dp.apply(null, [...bird]);
    const birdRoutes = async () =>
      [...(await dp.routes(null, 4)), ...(await dp.routes(null, 6))].filter((r) => r.proto === 12);
    const before = await birdRoutes();
    expect(before).toHaveLength(3);
    rec.setDesired(desired("bgp"));
    expect((await rec.apply()).conflicts).toEqual([]);
    expect(await birdRoutes()).toEqual(before);
    // bgp-cross-subnet wants VXLAN routes where (here) BIRD's are: reported, still not fought.
    // (BIRD's kernel filter keeps it off those prefixes: only next hops on the local subnet.)
    rec.setDesired(desired("bgp-cross-subnet"));
    expect((await rec.apply()).conflicts).toEqual([
      "10.244.3.0/26: the kernel holds a route tartan does not own (not proto 201)",
      "fd00:244::40/122: the kernel holds a route tartan does not own (not proto 201)",
    ]);
    expect(await birdRoutes()).toEqual(before);
    // bgp: only the local blackholes are tartan's; a second apply writes nothing.
    rec.setDesired(desired("bgp"));
    await rec.apply();
    // (the fixture's pod routes through tt… veths are proto 201 too, and the plugin's)
    const own = [...(await dp.routes(null, 4)), ...(await dp.routes(null, 6))].filter(
      (r) => r.proto === 201 && !r.dev?.startsWith("tt"),
    );
    expect(own.map((r) => `${r.dst} ${r.type}`).sort()).toEqual([
      "10.244.1.0/26 blackhole",
      "fd00:244::/122 blackhole",
    ]);
    dp.resetCounters();
    await rec.apply();
    expect(dp.writes).toBe(0);
    expect(await birdRoutes()).toEqual(before);
  });

  test("a failed apply throws and stays dirty; the next apply completes the work", async () => {
    rec.setDesired(desired("vxlan"));
    dp.failNext((op) => op.op === "fdb-replace", "No buffer space available");
    await expect(rec.apply()).rejects.toThrow(/fdb-replace.*No buffer space/);
    expect(rec.dirty).toBe(true);
    const stats = await rec.apply();
    expect(stats.added).toBeGreaterThan(0);
    expect(rec.dirty).toBe(false);
    dp.resetCounters();
    await rec.apply();
    expect(dp.writes).toBe(0);
  });

  test("concurrent applies run one after the other: the second finds nothing to do", async () => {
    rec.setDesired(desired("cross-subnet"));
    const [first, second] = await Promise.all([rec.apply(), rec.apply()]);
    expect(first.added).toBeGreaterThan(0);
    expect(second.added + second.changed + second.removed).toBe(0);
    expect(dp.applyCalls).toBe(1);
  });

  test("diff order: device, cleanup, FDB, then routes (a route never precedes its FDB entry)", () => {
    const d = diffKernelState(desired("vxlan"), { routes: [], neighbours: [], fdb: [] });
    const kinds = d.ops.map((o) => o.op);
    const lastFdb = kinds.lastIndexOf("fdb-replace");
    const firstRoute = kinds.indexOf("route-add");
    expect(kinds.slice(0, 2)).toEqual(["vxlan-add", "link-set"]);
    expect(lastFdb).toBeLessThan(firstRoute);
    expect(kinds.lastIndexOf("neigh-replace")).toBeLessThan(firstRoute);
  });
});
