// Host-to-host pod routing on the real kernel, in tt-t-* namespaces only:
//   fabric F: bridges br0 (198.18.0.0/24, .254) and br1 (198.18.1.0/24, .254), routing between them;
//   nodes A, B on br0 and C on br1, each with eth0 (underlay) and a default route via F;
//   one routed-mode pod per node (veth + /32 and /128 routes, wired with the CNI's own plan).
// Each node is reconciled by its own KernelReconciler from calcNodeRouting, for vxlan, host-gw
// and cross-subnet in turn; pods must reach each other (ping v4/v6, TCP) wherever the backend
// allows, a second reconcile must write nothing, and drift and node removal must be handled.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { KernelReconciler } from "../../src/agent/kernel-reconciler.ts";
import type { DesiredState } from "../../src/calc/desired-kernel-state.ts";
import { calcNodeRouting, type NodeRouting } from "../../src/calc/node-routing.ts";
import { podMtu } from "../../src/calc/pod-mtu.ts";
import {
  planRouted,
  ROUTED_GATEWAY_V4,
  ROUTED_GATEWAY_V6,
  ROUTED_HOST_MAC,
} from "../../src/cni/routed-mode.ts";
import type { ApplyOptions, Dataplane, NetnsRef } from "../../src/dataplane/dataplane.ts";
import type { KernelOp } from "../../src/dataplane/kernel-op.ts";
import { LinuxDataplane } from "../../src/dataplane/linux/linux-dataplane.ts";
import { NetlinkDataplane } from "../../src/dataplane/linux/netlink-dataplane.ts";
import type { IPAMBlockResource, NodeResource } from "../../src/model/cluster-resources.ts";
import type { RoutingBackendName } from "../../src/model/routing-backend.ts";
import { clusterNode, ipamBlock } from "../harness/cluster-objects.ts";
import { cleanupAllNetns, createNetns, isRoot, type TestNetns } from "../harness/netns.ts";

const TCP_ONCE = join(import.meta.dir, "../fixtures/tcp-once.ts");
const UNDERLAY_MTU = 1500;

interface NodeDef {
  name: string;
  bridge: "br0" | "br1";
  address: string;
  subnet: string;
  gateway: string;
  mac: string;
  blocks: [string, string];
  pod: [string, string];
}

const DEFS: NodeDef[] = [
  {
    name: "a",
    bridge: "br0",
    address: "198.18.0.1",
    subnet: "198.18.0.0/24",
    gateway: "198.18.0.254",
    mac: "02:aa:00:00:00:01",
    blocks: ["10.244.1.0/26", "fd00:244::/122"],
    pod: ["10.244.1.5", "fd00:244::5"],
  },
  {
    name: "b",
    bridge: "br0",
    address: "198.18.0.2",
    subnet: "198.18.0.0/24",
    gateway: "198.18.0.254",
    mac: "02:aa:00:00:00:02",
    blocks: ["10.244.2.0/26", "fd00:244::40/122"],
    pod: ["10.244.2.5", "fd00:244::45"],
  },
  {
    name: "c",
    bridge: "br1",
    address: "198.18.1.3",
    subnet: "198.18.1.0/24",
    gateway: "198.18.1.254",
    mac: "02:aa:00:00:00:03",
    blocks: ["10.244.3.0/26", "fd00:244::80/122"],
    pod: ["10.244.3.5", "fd00:244::85"],
  },
];

/** Counts what the reconciler writes, on top of the real driver. */
class CountingDataplane implements Dataplane {
  writes = 0;
  constructor(private readonly inner: Dataplane) {}
  async apply(netns: NetnsRef, ops: readonly KernelOp[], opts?: ApplyOptions) {
    this.writes += ops.length;
    return this.inner.apply(netns, ops, opts);
  }
  links = (n: NetnsRef) => this.inner.links(n);
  link = (n: NetnsRef, name: string) => this.inner.link(n, name);
  addrs = (n: NetnsRef, dev?: string) => this.inner.addrs(n, dev);
  routes = (n: NetnsRef, f: 4 | 6) => this.inner.routes(n, f);
  neighbours = (n: NetnsRef) => this.inner.neighbours(n);
  fdb = (n: NetnsRef, dev: string) => this.inner.fdb(n, dev);
  sysctlGet = (n: NetnsRef, k: string) => this.inner.sysctlGet(n, k);
  sysctlSet = (n: NetnsRef, k: string, v: string) => this.inner.sysctlSet(n, k, v);
  netnsExists = (p: string) => this.inner.netnsExists(p);
}

const nodeResource = (d: NodeDef): NodeResource =>
  clusterNode(d.name, { underlayAddress: d.address, underlaySubnet: d.subnet, vtepMac: d.mac });

const blockResources = (d: NodeDef): IPAMBlockResource[] =>
  d.blocks.map((cidr) => ipamBlock(cidr, d.name, "default"));

describe.skipIf(!isRoot)("multi-node routing on the kernel (vxlan, host-gw, cross-subnet)", () => {
  const linux = new LinuxDataplane();
  let fabric: TestNetns;
  const nodeNs = new Map<string, TestNetns>();
  const podNs = new Map<string, TestNetns>();
  const counting = new Map<string, CountingDataplane>();
  const recs = new Map<string, KernelReconciler>();

  beforeAll(async () => {
    fabric = await createNetns("fab");
    await linux.apply(fabric.path, [
      { op: "bridge-add", name: "br0" },
      { op: "bridge-add", name: "br1" },
      { op: "link-set", name: "br0", up: true },
      { op: "link-set", name: "br1", up: true },
      { op: "addr-add", dev: "br0", cidr: "198.18.0.254/24" },
      { op: "addr-add", dev: "br1", cidr: "198.18.1.254/24" },
    ]);
    await linux.sysctlSet(fabric.path, "net/ipv4/ip_forward", "1");
    for (const d of DEFS) {
      const n = await createNetns(`n${d.name}`);
      const p = await createNetns(`p${d.name}`);
      nodeNs.set(d.name, n);
      podNs.set(d.name, p);
      await linux.apply(fabric.path, [
        { op: "veth-add", name: `n-${d.name}`, peer: "eth0", peerNetns: n.path, mtu: UNDERLAY_MTU },
        { op: "link-set", name: `n-${d.name}`, master: d.bridge, up: true },
      ]);
      await linux.apply(n.path, [
        { op: "link-set", name: "eth0", up: true },
        { op: "addr-add", dev: "eth0", cidr: `${d.address}/24` },
        { op: "route-add", dst: "default", family: 4, via: d.gateway },
      ]);
      // The pod, wired exactly as the CNI plugin's routed mode wires it.
      const plan = planRouted({
        netns: p.path,
        ifname: "eth0",
        hostIfname: `tt0000000000${d.name}`,
        mtu: podMtu(UNDERLAY_MTU, "vxlan"),
        podMac: `0a:58:00:00:00:0${DEFS.indexOf(d) + 1}`,
        hostMac: ROUTED_HOST_MAC,
        addresses: [
          { cidr: `${d.pod[0]}/32`, family: 4, gateway: ROUTED_GATEWAY_V4 },
          { cidr: `${d.pod[1]}/128`, family: 6, gateway: ROUTED_GATEWAY_V6 },
        ],
        routes: [
          { dst: "0.0.0.0/0", family: 4, via: ROUTED_GATEWAY_V4 },
          { dst: "::/0", family: 6, via: ROUTED_GATEWAY_V6 },
        ],
      });
      await linux.apply(n.path, plan.host);
      await linux.apply(p.path, plan.pod);
      for (const s of plan.sysctls) await linux.sysctlSet(n.path, s.key, s.value);
      // The agent's driver (main.ts): rtnetlink, no iproute2 fallback expected.
      const dp = new CountingDataplane(new NetlinkDataplane());
      counting.set(d.name, dp);
      recs.set(d.name, new KernelReconciler(dp, n.path));
    }
  });

  afterAll(cleanupAllNetns);

  const routing = (local: string, backend: RoutingBackendName, defs = DEFS): NodeRouting =>
    calcNodeRouting({
      localNode: local,
      nodes: defs.map(nodeResource),
      blocks: defs.flatMap(blockResources),
      backend,
      underlay: { interface: "eth0", mtu: UNDERLAY_MTU },
    });

  /** Computes and applies every node's state; returns the problems per node. */
  /** verify: read the kernel back (as the agent's resync does) instead of trusting the last write. */
  const reconcileAll = async (backend: RoutingBackendName, opts: { verify?: boolean } = {}) => {
    const problems: Record<string, string[]> = {};
    for (const d of DEFS) {
      const r = routing(d.name, backend);
      problems[d.name] = r.problems.map((p) => `${p.code} ${p.node}`);
      if (opts.verify) recs.get(d.name)!.verify();
      recs.get(d.name)!.setDesired(r.state);
      await recs.get(d.name)!.apply();
    }
    return problems;
  };

  const ping = async (from: string, to: string, extra: string[] = []) => {
    const res = await podNs
      .get(from)!
      .exec(["ping", "-c", "2", "-i", "0.2", "-W", "2", ...extra, to], { allowFailure: true });
    return res.code === 0;
  };

  const tcp = async (from: string, to: string, toNode: string) => {
    const port = "7000";
    const banner = `pod-${toNode}`;
    const server = podNs
      .get(toNode)!
      .exec([process.execPath, TCP_ONCE, "server", port, banner], { allowFailure: true });
    const client = await podNs.get(from)!.exec([process.execPath, TCP_ONCE, "client", to, port], {
      allowFailure: true,
    });
    const srv = await server;
    return { ok: client.code === 0 && client.stdout.trim() === banner, detail: client.stderr + srv.stderr };
  };

  /** Everything tartan owns in a node's kernel, as the tools print it (for before/after). */
  const kernelText = async (name: string) => {
    const n = nodeNs.get(name)!;
    const parts = await Promise.all([
      n.exec(["ip", "-d", "link", "show", "dev", "tartan.vxlan"], { allowFailure: true }),
      n.exec(["ip", "-4", "route", "show", "proto", "201"]),
      n.exec(["ip", "-6", "route", "show", "proto", "201"]),
      n.exec(["ip", "neigh", "show", "nud", "permanent"]),
      n.exec(["bridge", "fdb", "show", "dev", "tartan.vxlan"], { allowFailure: true }),
    ]);
    return parts.map((p) => p.stdout.replace(/\s+(used|age) \S+/g, "")).join("\n");
  };

  const pairs = (ok: (a: string, b: string) => boolean) =>
    DEFS.flatMap((a) => DEFS.filter((b) => b !== a).map((b) => [a, b] as const)).filter(([a, b]) =>
      ok(a.name, b.name),
    );

  test("vxlan: every pod reaches every other pod over v4 and v6, TCP too; full-size packets fit", async () => {
    const problems = await reconcileAll("vxlan");
    expect(problems).toEqual({ a: [], b: [], c: [] });
    const link = await linux.link(nodeNs.get("a")!.path, "tartan.vxlan");
    expect(link).toMatchObject({ kind: "vxlan", mtu: 1450, up: true, mac: "02:aa:00:00:00:01" });
    for (const [from, to] of pairs(() => true)) {
      expect({ from: from.name, to: to.pod[0], ok: await ping(from.name, to.pod[0]) }).toMatchObject({
        ok: true,
      });
      expect({ from: from.name, to: to.pod[1], ok: await ping(from.name, to.pod[1]) }).toMatchObject({
        ok: true,
      });
    }
    // 1422 + 28 = 1450 = the pod MTU, unfragmented (DF) across the routed fabric to C.
    expect(await ping("a", DEFS[2]!.pod[0], ["-M", "do", "-s", "1422"])).toBe(true);
    const t4 = await tcp("a", DEFS[2]!.pod[0], "c");
    expect(t4).toMatchObject({ ok: true });
    const t6 = await tcp("c", DEFS[1]!.pod[1], "b");
    expect(t6).toMatchObject({ ok: true });
  });

  test("a second reconcile of the same state writes nothing, trusting the last write or reading back", async () => {
    const before = await Promise.all(DEFS.map((d) => kernelText(d.name)));
    for (const verify of [false, true]) {
      for (const d of DEFS) counting.get(d.name)!.writes = 0;
      await reconcileAll("vxlan", { verify });
      for (const d of DEFS)
        expect({ node: d.name, verify, writes: counting.get(d.name)!.writes }).toEqual({
          node: d.name,
          verify,
          writes: 0,
        });
    }
    expect(await Promise.all(DEFS.map((d) => kernelText(d.name)))).toEqual(before);
  });

  test("a route deleted by hand (and an FDB entry) is restored by the next apply", async () => {
    const a = nodeNs.get("a")!;
    await a.exec(["ip", "route", "del", "10.244.2.0/26"]);
    await a.exec([
      "bridge",
      "fdb",
      "del",
      "02:aa:00:00:00:03",
      "dev",
      "tartan.vxlan",
      "dst",
      "198.18.1.3",
      "self",
    ]);
    expect(await ping("a", DEFS[1]!.pod[0], ["-c", "1", "-W", "1"])).toBe(false);
    counting.get("a")!.writes = 0;
    const stats = await recs.get("a")!.apply();
    expect(stats).toMatchObject({ added: 2, changed: 0, removed: 0 });
    expect(counting.get("a")!.writes).toBe(2);
    expect(await ping("a", DEFS[1]!.pod[0])).toBe(true);
    expect(await ping("a", DEFS[2]!.pod[0])).toBe(true);
  });

  test("host-gw: direct routes inside the subnet; the off-subnet node is refused, not routed", async () => {
    const problems = await reconcileAll("host-gw");
    expect(problems.a).toEqual(["underlay-family b", "peer-not-on-subnet c"]);
    expect(problems.c).toEqual(["peer-not-on-subnet a", "peer-not-on-subnet b"]);
    const a = nodeNs.get("a")!;
    expect(
      (await a.exec(["ip", "link", "show", "dev", "tartan.vxlan"], { allowFailure: true })).code,
    ).not.toBe(0);
    expect((await a.exec(["ip", "-4", "route", "show", "proto", "201", "10.244.2.0/26"])).stdout).toMatch(
      /^10\.244\.2\.0\/26 via 198\.18\.0\.2 dev eth0/,
    );
    expect(await ping("a", DEFS[1]!.pod[0])).toBe(true);
    expect(await ping("b", DEFS[0]!.pod[0])).toBe(true);
    expect(await tcp("b", DEFS[0]!.pod[0], "a")).toMatchObject({ ok: true });
    expect(await ping("a", DEFS[2]!.pod[0], ["-c", "1", "-W", "1"])).toBe(false);
    // What the reconciler wrote is what the kernel reads back: a verifying pass writes nothing.
    for (const d of DEFS) counting.get(d.name)!.writes = 0;
    await reconcileAll("host-gw", { verify: true });
    expect(DEFS.map((d) => counting.get(d.name)!.writes)).toEqual([0, 0, 0]);
  });

  test("cross-subnet: host-gw between A and B, vxlan to and from C", async () => {
    const problems = await reconcileAll("cross-subnet");
    expect(problems).toEqual({ a: ["underlay-family b"], b: ["underlay-family a"], c: [] });
    const a = nodeNs.get("a")!;
    const v4 = (await a.exec(["ip", "-4", "route", "show", "proto", "201"])).stdout;
    expect(v4).toMatch(/10\.244\.2\.0\/26 via 198\.18\.0\.2 dev eth0/);
    expect(v4).toMatch(/10\.244\.3\.0\/26 via 198\.18\.1\.3 dev tartan\.vxlan onlink/);
    expect(v4).toMatch(/blackhole 10\.244\.1\.0\/26/);
    for (const [from, to] of pairs(() => true)) {
      expect({ from: from.name, to: to.pod[0], ok: await ping(from.name, to.pod[0]) }).toMatchObject({
        ok: true,
      });
    }
    // IPv6 goes through VXLAN (C), not host-gw (no IPv6 underlay between A and B).
    expect(await ping("a", DEFS[2]!.pod[1])).toBe(true);
    expect(await ping("c", DEFS[1]!.pod[1])).toBe(true);
    expect(await tcp("c", DEFS[0]!.pod[0], "a")).toMatchObject({ ok: true });
    for (const d of DEFS) counting.get(d.name)!.writes = 0;
    await reconcileAll("cross-subnet", { verify: true });
    expect(DEFS.map((d) => counting.get(d.name)!.writes)).toEqual([0, 0, 0]);
  });

  test("removing a node from the desired state removes its routes, FDB entry and neighbours", async () => {
    await reconcileAll("vxlan");
    expect(await ping("a", DEFS[2]!.pod[0])).toBe(true);
    const withoutC: DesiredState = routing("a", "vxlan", DEFS.slice(0, 2)).state;
    recs.get("a")!.setDesired(withoutC);
    const stats = await recs.get("a")!.apply();
    expect(stats).toMatchObject({ added: 0, changed: 0, removed: 5 });
    const text = await kernelText("a");
    expect(text).not.toMatch(/10\.244\.3\.0|fd00:244::80|198\.18\.1\.3|fe80::aa:ff:fe00:3|02:aa:00:00:00:03/);
    expect(text).toMatch(/10\.244\.2\.0\/26 via 198\.18\.0\.2 dev tartan\.vxlan/);
    expect(await ping("a", DEFS[2]!.pod[0], ["-c", "1", "-W", "1"])).toBe(false);
    expect(await ping("a", DEFS[1]!.pod[0])).toBe(true);
    // The pod's own routes (proto 201 too, but the CNI's) were never touched.
    const host = (await nodeNs.get("a")!.exec(["ip", "-4", "route", "show", "proto", "201"])).stdout;
    expect(host).toMatch(/10\.244\.1\.5 dev tt0000000000a scope link/);
  });
});
