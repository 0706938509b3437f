// The bgp-cross-subnet backend with real agents and real BIRD: a router namespace joins two
// underlay subnets (x1, x2 on one, x3 on the other). Every node has BGP sessions to every other,
// but a node's kernel gets BIRD's routes (proto bird) only for peers on its own subnet, and
// tartan's VXLAN routes (proto 201, tartan.vxlan) for the others; IPv6 blocks ride VXLAN here
// since the underlay has no IPv6 next hops. Pod addresses of both families reach each other.
// Agents and birds (by PID), namespaces and directories are removed, also on failure.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Datastore } from "../../src/datastore/datastore.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import { run } from "../../src/exec/run.ts";
import { spawnDetached } from "../../src/exec/spawn-detached.ts";
import type { BgpNodeStatus } from "../../src/model/agent-api.ts";
import { parseCidr } from "../../src/model/cidr.ts";
import { type IPAMBlockResource, KINDS } from "../../src/model/cluster-resources.ts";
import { formatIp } from "../../src/model/ip.ts";
import { eventually } from "../harness/eventually.ts";
import { cleanupAllNetns, createNetns, isRoot, type TestNetns } from "../harness/netns.ts";
import { processAlive, stopProcess } from "../harness/stop-process.ts";
import { privateTartanBin } from "../harness/tartan-binary.ts";

const skip = !isRoot || !existsSync("/usr/sbin/bird");
const SETTLE = { timeoutMs: 30_000, intervalMs: 200 };

interface XNode {
  name: string;
  ns: TestNetns;
  addr: string;
  dir: string;
  socket: string;
}

const pids = new Set<number>();
const xs: XNode[] = [];
let root = "";
let bin = "";
let ds: Datastore;

async function status(n: XNode): Promise<BgpNodeStatus> {
  const r = await run([join(bin, "tartan"), "bgp", "status", "--socket", n.socket, "-o", "json"], {
    allowFailure: true,
  });
  return (JSON.parse(r.stdout) as { nodes: BgpNodeStatus[] }).nodes[0]!;
}

async function blockOf(name: string, family: 4 | 6): Promise<string> {
  const { items } = await ds.list(KINDS.ipamBlock);
  return (items as IPAMBlockResource[]).find(
    (b) => b.spec.node === name && b.spec.cidr.includes(":") === (family === 6),
  )!.spec.cidr;
}

describe.skipIf(skip)("bgp-cross-subnet: BIRD on the subnet, VXLAN across it", () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "tartan-bgpx-"));
    bin = await privateTartanBin();
    const rt = await createNetns("bgprt");
    await rt.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    for (const s of [0, 1]) {
      await rt.exec(["ip", "link", "add", `br${s}`, "type", "bridge"]);
      await rt.exec(["ip", "addr", "add", `10.98.${s}.1/24`, "dev", `br${s}`]);
      await rt.exec(["ip", "link", "set", `br${s}`, "up"]);
    }
    const dsPath = join(root, "ds.db");
    for (const [name, s, host] of [
      ["x1", 0, 11],
      ["x2", 0, 12],
      ["x3", 1, 13],
    ] as const) {
      const ns = await createNetns(`bgp${name}`);
      const addr = `10.98.${s}.${host}`;
      await run([
        "ip",
        "-n",
        rt.name,
        "link",
        "add",
        `p${name}`,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns.name,
      ]);
      await rt.exec(["ip", "link", "set", `p${name}`, "master", `br${s}`, "up"]);
      await ns.exec(["ip", "addr", "add", `${addr}/24`, "dev", "eth0"]);
      await ns.exec(["ip", "link", "set", "eth0", "up"]);
      await ns.exec(["ip", "route", "add", "default", "via", `10.98.${s}.1`]);
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      const socket = join(dir, "agent.sock");
      const config = join(dir, "agent.json");
      writeFileSync(
        config,
        JSON.stringify({
          nodeName: name,
          datastore: { type: "local", path: dsPath },
          backend: "bgp-cross-subnet",
          underlayInterface: "eth0",
          ipamDataDir: join(dir, "ipam"),
          socket,
          metricsAddress: "",
          networkPolicy: false,
          nodeReclaimProbe: "none",
          bgp: { stateDir: join(dir, "bird") },
        }),
      );
      xs.push({ name, ns, addr, dir, socket });
      const pid = await spawnDetached(
        ["ip", "netns", "exec", ns.name, join(bin, "tartan"), "agent", "--config", config],
        {
          logFile: join(dir, "agent.log"),
        },
      );
      pids.add(pid);
    }
    ds = await openDatastore({ type: "local", path: dsPath });
  }, 120_000);

  afterAll(async () => {
    for (const pid of pids) await stopProcess(pid, 8000).catch(() => {});
    for (const n of xs) {
      try {
        const pid = Number(readFileSync(join(n.dir, "bird", "bird.pid"), "utf8").trim());
        if (pid > 0 && processAlive(pid)) await stopProcess(pid, 5000);
      } catch {}
    }
    await ds?.close().catch(() => {});
    await cleanupAllNetns();
    if (bin) rmSync(bin, { recursive: true, force: true });
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test("sessions to every node; kernel: BIRD's routes on the subnet, VXLAN across; pods reach pods", async () => {
    for (const n of xs)
      await eventually(`node ${n.name}: 2 sessions, healthy`, () => status(n), {
        ...SETTLE,
        until: (s) => s.healthy && s.sessions.length === 2,
      });
    const [x1, x2, x3] = [xs[0]!, xs[1]!, xs[2]!];
    const b2 = await blockOf("x2", 4);
    const b3 = await blockOf("x3", 4);
    const route = async (n: XNode, dst: string, family: 4 | 6 = 4) =>
      (await n.ns.exec(["ip", `-${family}`, "route", "show", dst])).stdout.trim();
    await eventually("x1: x2's block from BIRD, via x2", () => route(x1, b2), {
      ...SETTLE,
      until: (r) => r.includes(`via ${x2.addr} dev eth0 proto bird`),
    });
    await eventually("x1: x3's block through VXLAN (tartan's), not BIRD's", () => route(x1, b3), {
      ...SETTLE,
      until: (r) => r.includes("dev tartan.vxlan proto 201") && !r.includes("proto bird"),
    });
    expect(await route(x3, await blockOf("x1", 4))).toContain("dev tartan.vxlan proto 201");
    // BIRD learned x3's block all the same (a ToR on this subnet would too): it imported, not installed.
    const s1 = await status(x1);
    expect(s1.sessions.find((s) => s.peerNode === "x3")!.importedRoutes).toBeGreaterThan(0);
    expect(s1.routes.map((r) => r.dst)).not.toContain(b3);
    // Pods: the 9th address of each block on the loopback, both families, every pair from x1.
    const pod = async (n: XNode, family: 4 | 6) => {
      const ip = formatIp({ family, value: parseCidr(await blockOf(n.name, family)).ip.value + 9n });
      await n.ns.exec(["ip", "addr", "add", `${ip}/${family === 4 ? 32 : 128}`, "dev", "lo"]);
      return ip;
    };
    for (const family of [4, 6] as const) {
      const [p1, p2, p3] = [await pod(x1, family), await pod(x2, family), await pod(x3, family)];
      for (const dst of [p2, p3]) {
        const r = await eventually(
          `x1 ${p1} pings ${dst}`,
          () =>
            x1.ns.exec(["ping", `-${family}`, "-c", "1", "-W", "1", "-I", p1, dst], { allowFailure: true }),
          { timeoutMs: 15_000, until: (x) => x.code === 0 },
        );
        expect(r.code).toBe(0);
      }
    }
  }, 120_000);
});
