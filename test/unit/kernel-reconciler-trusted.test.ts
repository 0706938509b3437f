import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CalcKernelPort } from "../../src/agent/calc-kernel-port.ts";
import { KernelReconciler } from "../../src/agent/kernel-reconciler.ts";
import { calcNodeRouting, NodeRoutingCache } from "../../src/calc/node-routing.ts";
import { FakeDataplane } from "../../src/dataplane/fake/fake-dataplane.ts";
import type { IPAMBlockResource, NodeResource } from "../../src/model/cluster-resources.ts";
import type { RoutingBackendName } from "../../src/model/routing-backend.ts";
import { clusterNode, ipamBlock } from "../harness/cluster-objects.ts";

/** A fake kernel that counts the reconciler's read-backs (one routes() call per family per read). */
class CountingDataplane extends FakeDataplane {
  routeReads = 0;
  override routes(...a: Parameters<FakeDataplane["routes"]>) {
    this.routeReads++;
    return super.routes(...a);
  }
}

async function kernel(): Promise<CountingDataplane> {
  const dp = new CountingDataplane();
  await dp.apply(null, [
    { op: "bridge-add", name: "eth0", mtu: 1500 },
    { op: "link-set", name: "eth0", up: true },
    { op: "addr-add", dev: "eth0", cidr: "198.18.0.1/24" },
  ]);
  dp.resetCounters();
  dp.routeReads = 0;
  return dp;
}

const sorted = <T>(xs: T[]): T[] =>
  xs
    .map((x) => JSON.stringify(x))
    .sort()
    .map((x) => JSON.parse(x) as T);

/** Tartan's part of the kernel, in a canonical order (the kernel's own order is insertion order). */
async function kernelText(dp: FakeDataplane) {
  return {
    link: await dp.link(null, "tartan.vxlan"),
    routes: sorted([...(await dp.routes(null, 4)), ...(await dp.routes(null, 6))]),
    neighbours: sorted(await dp.neighbours(null)),
    fdb: sorted(await dp.fdb(null, "tartan.vxlan")),
  };
}

// A small universe whose objects are built once: a "state" picks variants by index, so an
// unchanged Node or block is the same object from one step to the next, as in the agent's mirrors.
const LOCAL_VARIANTS = [
  clusterNode("a", {
    underlayAddress: "198.18.0.1",
    underlaySubnet: "198.18.0.0/24",
    vtepMac: "02:aa:00:00:00:01",
  }),
  clusterNode("a", {
    underlayAddress: "198.18.0.1",
    underlaySubnet: "198.18.0.0/24",
    vtepMac: "02:aa:00:00:00:0a",
  }),
  clusterNode("a", { underlayAddress: "198.18.0.1", underlaySubnet: "198.18.0.0/24" }),
];
const PEERS = ["b", "c", "d", "e"];
const PEER_VARIANTS: NodeResource[][] = PEERS.map((n, i) => [
  clusterNode(n, {
    underlayAddress: `198.18.0.${10 + i}`,
    underlaySubnet: "198.18.0.0/24",
    vtepMac: `02:aa:00:00:01:0${i}`,
  }),
  clusterNode(n, {
    underlayAddress: `198.18.1.${10 + i}`,
    underlaySubnet: "198.18.1.0/24",
    vtepMac: `02:aa:00:00:01:0${i}`,
  }),
  // Same MAC as peer b: the first by name keeps it.
  clusterNode(n, {
    underlayAddress: `198.18.0.${20 + i}`,
    underlaySubnet: "198.18.0.0/24",
    vtepMac: "02:aa:00:00:01:00",
  }),
  clusterNode(n, { underlayAddress: `198.18.0.${30 + i}`, underlaySubnet: "198.18.0.0/24" }),
]);
const BLOCK_CIDRS = ["10.244.1.0/26", "10.244.2.0/26", "10.244.3.0/26", "fd00:244::/122", "fd00:244::40/122"];
const BLOCK_OWNERS = ["a", ...PEERS, "gone"];
const BLOCK_VARIANTS: IPAMBlockResource[][] = BLOCK_CIDRS.map((cidr) =>
  BLOCK_OWNERS.map((owner) => ipamBlock(cidr, owner, "p")),
);
const BACKENDS: RoutingBackendName[] = ["vxlan", "host-gw", "cross-subnet"];

const stateArb = fc.record({
  backend: fc.constantFrom(...BACKENDS),
  local: fc.nat(LOCAL_VARIANTS.length - 1),
  mtu: fc.constantFrom(1500, 1400),
  // Per peer: absent (-1) or a variant.
  peers: fc.tuple(...PEERS.map(() => fc.integer({ min: -1, max: 3 }))),
  // Per block: absent (-1) or an owner.
  blocks: fc.tuple(...BLOCK_CIDRS.map(() => fc.integer({ min: -1, max: BLOCK_OWNERS.length - 1 }))),
});
type State = typeof stateArb extends fc.Arbitrary<infer T> ? T : never;

function input(s: State) {
  return {
    localNode: "a",
    nodes: [LOCAL_VARIANTS[s.local]!, ...s.peers.flatMap((v, i) => (v < 0 ? [] : [PEER_VARIANTS[i]![v]!]))],
    blocks: s.blocks.flatMap((o, i) => (o < 0 ? [] : [BLOCK_VARIANTS[i]![o]!])),
    backend: s.backend,
    underlay: { interface: "eth0", mtu: s.mtu },
  };
}

// The diff's phases; within one, the order follows the kernel's listing and does not matter.
const PHASE: Record<string, number> = {
  "link-del": 0,
  "vxlan-add": 0,
  "link-set": 0,
  "fdb-replace": 2,
  "fdb-del": 2,
  "route-add": 3,
};
/** The ops written, phase by phase, each phase in a canonical order. */
const opsOf = (dp: FakeDataplane): string[] =>
  dp.applied
    .map((a, i) => ({ op: a.op, phase: PHASE[a.op.op] ?? 1, i }))
    .sort(
      (x, y) =>
        x.phase - y.phase ||
        (x.phase === 0 ? x.i - y.i : JSON.stringify(x.op) < JSON.stringify(y.op) ? -1 : 1),
    )
    .map((x) => JSON.stringify(x.op));

describe("KernelReconciler: diffing against what it wrote", () => {
  const nodes = [LOCAL_VARIANTS[0]!, PEER_VARIANTS[0]![0]!, PEER_VARIANTS[1]![1]!];
  const blocks = [BLOCK_VARIANTS[0]![0]!, BLOCK_VARIANTS[1]![1]!, BLOCK_VARIANTS[2]![2]!];
  const want = (n = nodes, b = blocks) =>
    calcNodeRouting({
      localNode: "a",
      nodes: n,
      blocks: b,
      backend: "vxlan",
      underlay: { interface: "eth0", mtu: 1500 },
    }).state;

  test("only the first apply reads the kernel back; a new desired state is diffed against the last written", async () => {
    const dp = await kernel();
    const rec = new KernelReconciler(dp);
    rec.setDesired(want());
    expect((await rec.apply()).added).toBeGreaterThan(0);
    expect(dp.routeReads).toBe(2);
    expect(rec.lastTimings?.readMs).toBeDefined();
    dp.resetCounters();
    // Peer c leaves: its route, neighbour and FDB entry go, without a read-back.
    rec.setDesired(want(nodes.slice(0, 2), blocks.slice(0, 2)));
    expect(await rec.apply()).toMatchObject({ added: 0, changed: 0, removed: 3 });
    expect(dp.routeReads).toBe(2);
    expect(rec.lastTimings?.readMs).toBeUndefined();
    expect(dp.applied.map((a) => a.op.op).sort()).toEqual(["fdb-del", "neigh-del", "route-del"]);
  });

  test("apply() with no new desired state, and verify(), read the kernel back and repair drift", async () => {
    const dp = await kernel();
    const rec = new KernelReconciler(dp);
    rec.setDesired(want());
    await rec.apply();
    const good = await kernelText(dp);
    await dp.apply(null, [{ op: "route-del", dst: "10.244.2.0/26", family: 4 }]);
    dp.routeReads = 0;
    // The same state again: a caller asking to reconcile means "look".
    expect(await rec.apply()).toMatchObject({ added: 1 });
    expect(dp.routeReads).toBe(2);
    expect(await kernelText(dp)).toEqual(good);
    // A new (equal) state after verify(): read back too.
    await dp.apply(null, [{ op: "route-del", dst: "10.244.2.0/26", family: 4 }]);
    rec.verify();
    rec.setDesired(want());
    dp.routeReads = 0;
    expect(await rec.apply()).toMatchObject({ added: 1 });
    expect(dp.routeReads).toBe(2);
    expect(await kernelText(dp)).toEqual(good);
  });

  test("a write refused on the trusted path is redone at once on a read-back", async () => {
    const dp = await kernel();
    const rec = new KernelReconciler(dp);
    rec.setDesired(want(nodes.slice(0, 2), blocks.slice(0, 2)));
    await rec.apply();
    // Someone deleted the device by hand: the trusted diff's writes on it fail.
    await dp.apply(null, [{ op: "link-del", name: "tartan.vxlan" }]);
    dp.routeReads = 0;
    rec.setDesired(want());
    const stats = await rec.apply();
    expect(dp.routeReads).toBe(2);
    expect(stats.added).toBeGreaterThan(3);
    const fresh = new KernelReconciler(await kernel());
    fresh.setDesired(want());
    await fresh.apply();
    expect(await kernelText(dp)).toMatchObject({ fdb: expect.any(Array) });
    expect((await kernelText(dp)).fdb.length).toBe(2);
    expect((await kernelText(dp)).link).toBeDefined();
  });

  test("a conflict keeps the next apply reading back, so it is reported again and written once it clears", async () => {
    const dp = await kernel();
    await dp.apply(null, [
      { op: "route-add", dst: "10.244.2.0/26", family: 4, via: "198.18.0.77", proto: 4 },
    ]);
    const rec = new KernelReconciler(dp);
    rec.setDesired(want());
    expect((await rec.apply()).conflicts).toHaveLength(1);
    dp.routeReads = 0;
    rec.setDesired(want());
    expect((await rec.apply()).conflicts).toHaveLength(1);
    expect(dp.routeReads).toBe(2);
    await dp.apply(null, [{ op: "route-del", dst: "10.244.2.0/26", family: 4, proto: 4 }]);
    rec.setDesired(want());
    expect(await rec.apply()).toMatchObject({ added: 1, conflicts: [] });
  });

  test("property: on random sequences of cluster states, the trusted diff writes exactly what a read-back diff writes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stateArb, { minLength: 1, maxLength: 12 }), async (states) => {
        const trustedDp = await kernel();
        const readingDp = await kernel();
        const trusted = new KernelReconciler(trustedDp);
        const reading = new KernelReconciler(readingDp);
        const cache = new NodeRoutingCache();
        for (const s of states) {
          const plain = calcNodeRouting(input(s));
          const cached = calcNodeRouting({ ...input(s), cache });
          // The cache changes nothing in calc's answer.
          expect(cached).toEqual(plain);
          trusted.setDesired(cached.state);
          reading.verify();
          reading.setDesired(plain.state);
          trustedDp.resetCounters();
          readingDp.resetCounters();
          const a = await trusted.apply();
          const b = await reading.apply();
          expect(a).toEqual(b);
          expect(opsOf(trustedDp)).toEqual(opsOf(readingDp));
          expect(await kernelText(trustedDp)).toEqual(await kernelText(readingDp));
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("CalcKernelPort", () => {
  test("a routing problem is logged once while it lasts, at most 20 lines per apply", async () => {
    const lines: { msg: string; f: Record<string, unknown> }[] = [];
    const port = new CalcKernelPort(new KernelReconciler(await kernel()), (_l, msg, f) =>
      lines.push({ msg, f: f ?? {} }),
    );
    const snap = (blocks: IPAMBlockResource[]) => ({
      nodeName: "a",
      backend: "vxlan" as const,
      vxlan: { vni: 4096, port: 4789 },
      underlay: { interface: "eth0", address: "198.18.0.1", subnet: "198.18.0.0/24", mtu: 1500 },
      nodes: [LOCAL_VARIANTS[0]!],
      blocks,
    });
    // 30 blocks of a node that does not exist (yet).
    const orphans = Array.from({ length: 30 }, (_, i) => ipamBlock(`10.250.${i}.0/26`, "later", "p"));
    port.setDesired(snap(orphans));
    expect(lines.filter((l) => l.msg === "routing problem")).toHaveLength(20);
    expect(lines.find((l) => l.msg === "more routing problems")?.f).toMatchObject({
      notLogged: 10,
      total: 30,
    });
    lines.length = 0;
    port.setDesired(snap(orphans));
    expect(lines).toEqual([]);
    port.setDesired(snap([...orphans, ipamBlock("10.251.0.0/26", "other", "p")]));
    expect(lines.map((l) => l.f.node)).toEqual(["other"]);
    expect(port.problems).toHaveLength(31);
  });
});
