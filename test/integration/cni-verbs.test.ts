// The real plugin binary (dist/tartan) against the real kernel, every verb, every supported
// version, both modes, both families. A test namespace H stands in for the node: the plugin runs
// inside it (`ip netns exec`), so its links, routes, sysctls and nft tables are H's, never the
// machine's. Pods are further test namespaces. Everything is removed after each test.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostVethName } from "../../src/cni/host-veth-name.ts";
import { run } from "../../src/exec/run.ts";
import { SUPPORTED_CNI_VERSIONS, versionAtLeast } from "../../src/model/cni-version.ts";
import { type CniCommand, type InvokeResult, invokePlugin } from "../harness/cni-invoke.ts";
import { createNetns, deleteNetns, isRoot, type TestNetns, vethBetween } from "../harness/netns.ts";
import { privatePluginBin } from "../harness/tartan-binary.ts";

const REFERENCE = "/usr/lib/cni";
const V4 = "10.231.0.0/24";
const V6 = "fd31::/64";
const DUAL_ROUTES = [{ dst: "0.0.0.0/0" }, { dst: "::/0" }];

type Json = Record<string, unknown>;

let bin = "";
let h: TestNetns;
let dir = "";
let mine: TestNetns[] = [];

async function pod(label = "c"): Promise<TestNetns> {
  const ns = await createNetns(label);
  mine.push(ns);
  return ns;
}

function conf(o: {
  version?: string;
  mode?: "bridge" | "routed";
  name?: string;
  mtu?: number | null;
  ipMasq?: boolean;
  ranges?: unknown[];
  routes?: unknown[];
  extra?: Json;
}): Json {
  const c: Json = {
    cniVersion: o.version ?? "1.1.0",
    name: o.name ?? "verbs",
    type: "tartan",
    mode: o.mode ?? "bridge",
    bridge: "tartan0",
    ipMasq: o.ipMasq ?? false,
    ipam: {
      type: "tartan-ipam",
      ranges: o.ranges ?? [[{ subnet: V4 }], [{ subnet: V6 }]],
      routes: o.routes ?? DUAL_ROUTES,
      dataDir: join(dir, "ipam"),
    },
    ...o.extra,
  };
  if (o.mtu !== null) c.mtu = o.mtu ?? 1500;
  return c;
}

function cni(
  command: CniCommand,
  config: Json,
  o: { id?: string; netns?: string; ifname?: string; prev?: Json; binary?: string; valid?: Json[] } = {},
): Promise<InvokeResult> {
  const cfg: Json = { ...config };
  if (o.prev) cfg.prevResult = o.prev;
  if (o.valid) {
    cfg["cni.dev/valid-attachments"] = o.valid;
    cfg["cni.dev/attachments"] = o.valid;
  }
  return invokePlugin({
    binary: o.binary ?? join(bin, "tartan"),
    command,
    containerId: o.id ?? "ctr1",
    netns: o.netns ?? "",
    ifname: o.ifname ?? "eth0",
    cniPath: [bin, REFERENCE],
    config: cfg,
    hostNetns: h,
  });
}

async function ipj(ns: TestNetns, args: string[]): Promise<Json[]> {
  const out = (await ns.exec(["ip", "-j", ...args], { allowFailure: true })).stdout.trim();
  return out ? (JSON.parse(out) as Json[]) : [];
}

async function addrsOf(ns: TestNetns, dev: string): Promise<string[]> {
  const links = await ipj(ns, ["addr", "show", "dev", dev]);
  return ((links[0]?.addr_info ?? []) as Json[])
    .filter((a) => a.scope === "global")
    .map((a) => `${a.local}/${a.prefixlen}`)
    .sort();
}

async function linkOf(ns: TestNetns, dev: string): Promise<Json | undefined> {
  return (await ipj(ns, ["-d", "link", "show", "dev", dev]))[0];
}

async function hostVeths(): Promise<string[]> {
  return (await ipj(h, ["link", "show", "type", "veth"]))
    .map((l) => String(l.ifname))
    .filter((n) => /^tt[0-9a-f]{11}$/.test(n));
}

async function ping(from: TestNetns, ip: string): Promise<number> {
  const argv = ip.includes(":")
    ? ["ping", "-6", "-c", "1", "-W", "2", ip]
    : ["ping", "-c", "1", "-W", "2", ip];
  // IPv6 neighbour discovery on a fresh bridge can eat the first probe: allow a few.
  for (let i = 0; i < 3; i++) if ((await from.exec(argv, { allowFailure: true })).code === 0) return 0;
  return 1;
}

function expectOk(r: InvokeResult): Json {
  expect({
    code: r.code,
    stdout: r.code === 0 ? "" : r.stdout,
    stderr: r.code === 0 ? "" : r.stderr,
  }).toEqual({
    code: 0,
    stdout: "",
    stderr: "",
  });
  return r.json ?? {};
}

function expectErr(r: InvokeResult, code: number): string {
  expect(r.code).not.toBe(0);
  expect(r.json).toBeDefined();
  expect(r.json!.code).toBe(code);
  return String(r.json!.msg);
}

const addr = (cidr: string) => cidr.split("/")[0]!;

describe.skipIf(!isRoot)("tartan binary: every verb, version, mode, family (integration, netns)", () => {
  beforeAll(async () => {
    bin = await privatePluginBin("tartan-verbs-bin-");
  }, 300_000);

  afterAll(() => {
    if (bin) rmSync(bin, { recursive: true, force: true });
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tartan-verbs-"));
    mine = [];
    h = await createNetns("h");
    mine.push(h);
  });

  afterEach(async () => {
    for (const ns of mine) await deleteNetns(ns.name);
    mine = [];
    rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ["bridge", "routed"] as const) {
    for (const version of SUPPORTED_CNI_VERSIONS) {
      test(`${mode} ${version}: ADD result shape and kernel state, CHECK, DEL twice, nothing left`, async () => {
        const c = await pod();
        const config = conf({ version, mode });
        const result = expectOk(await cni("ADD", config, { netns: c.path }));
        const host = hostVethName("verbs", "ctr1", "eth0");

        // Result shape in the request's version.
        expect(result.cniVersion).toBe(version);
        const ifaces = result.interfaces as Json[];
        const ips = result.ips as Json[];
        expect(ifaces.map((i) => i.name)).toEqual(
          mode === "bridge" ? ["tartan0", host, "eth0"] : [host, "eth0"],
        );
        const podIdx = ifaces.findIndex((i) => i.name === "eth0");
        expect(ifaces[podIdx]!.sandbox).toBe(c.path);
        for (const i of ifaces) if (i.name !== "eth0") expect(i.sandbox).toBeUndefined();
        expect(ips).toHaveLength(2);
        for (const ip of ips) {
          expect(ip.interface).toBe(podIdx);
          if (versionAtLeast(version, "1.0.0")) expect("version" in ip).toBe(false);
          else expect(ip.version).toBe(String(ip.address).includes(":") ? "6" : "4");
        }
        if (versionAtLeast(version, "1.1.0")) expect(ifaces[podIdx]!.mtu).toBe(1500);
        else expect("mtu" in ifaces[podIdx]!).toBe(false);
        const [a4, a6] = ips.map((ip) => String(ip.address));

        // Container side: the interface, its MAC, addresses and default routes.
        const eth0 = (await linkOf(c, "eth0"))!;
        expect(eth0.address).toBe(ifaces[podIdx]!.mac);
        expect(eth0.mtu).toBe(1500);
        expect(eth0.operstate === "UP" || (eth0.flags as string[]).includes("UP")).toBe(true);
        expect(await addrsOf(c, "eth0")).toEqual([a4!, a6!].sort());
        const def4 = (await ipj(c, ["-4", "route", "show", "default"]))[0]!;
        const def6 = (await ipj(c, ["-6", "route", "show", "default"]))[0]!;
        expect(def4.dev).toBe("eth0");
        expect(def6.dev).toBe("eth0");

        // Host side.
        const veth = (await linkOf(h, host))!;
        expect(veth).toBeDefined();
        if (mode === "bridge") {
          expect(a4).toMatch(/^10\.231\.0\.\d+\/24$/);
          expect(a6).toMatch(/^fd31::[0-9a-f]+\/64$/);
          expect(def4.gateway).toBe("10.231.0.1");
          expect(def6.gateway).toBe("fd31::1");
          expect(veth.master).toBe("tartan0");
          expect(((veth.linkinfo as Json).info_slave_data as Json).hairpin).toBe(true);
          expect(((await linkOf(h, "tartan0"))!.linkinfo as Json).info_kind).toBe("bridge");
          expect(await addrsOf(h, "tartan0")).toEqual(["10.231.0.1/24", "fd31::1/64"]);
        } else {
          expect(a4).toMatch(/^10\.231\.0\.\d+\/32$/);
          expect(a6).toMatch(/^fd31::[0-9a-f]+\/128$/);
          expect(def4.gateway).toBe("169.254.1.1");
          expect(def6.gateway).toBe("fe80::ecee:eeff:feee:eeee");
          expect(veth.master).toBeUndefined();
          expect(veth.address).toBe("ee:ee:ee:ee:ee:ee");
          const r4 = await ipj(h, ["-4", "route", "show", "proto", "201"]);
          const r6 = await ipj(h, ["-6", "route", "show", "proto", "201"]);
          expect(r4.map((r) => [r.dst, r.dev, r.scope])).toEqual([[addr(a4!), host, "link"]]);
          expect(r6.map((r) => [r.dst, r.dev])).toEqual([[addr(a6!), host]]);
          const neigh = await ipj(c, ["neigh", "show", "dev", "eth0", "nud", "permanent"]);
          expect(neigh.map((n) => `${n.dst} ${n.lladdr}`).sort()).toEqual([
            "169.254.1.1 ee:ee:ee:ee:ee:ee",
            "fe80::ecee:eeff:feee:eeee ee:ee:ee:ee:ee:ee",
          ]);
          expect((await h.exec(["cat", `/proc/sys/net/ipv4/conf/${host}/proxy_arp`])).stdout.trim()).toBe(
            "1",
          );
        }

        // CHECK (0.4.0+); 0.3.x must refuse it with code 1.
        const check = await cni("CHECK", config, { netns: c.path, prev: result });
        if (versionAtLeast(version, "0.4.0")) expectOk(check);
        else expectErr(check, 1);

        // DEL, twice; then nothing is left in either namespace.
        expectOk(await cni("DEL", config, { netns: c.path, prev: result }));
        expectOk(await cni("DEL", config, { netns: c.path, prev: result }));
        expect(await hostVeths()).toEqual([]);
        expect(await linkOf(c, "eth0")).toBeUndefined();
        expect(await ipj(h, ["route", "show", "proto", "201"])).toEqual([]);
        // The address is free again: the same container gets an address on a new ADD.
        const again = expectOk(await cni("ADD", config, { netns: c.path }));
        expect((again.ips as Json[]).length).toBe(2);
        expectOk(await cni("DEL", config, { netns: c.path, prev: again }));

        // GC and STATUS only exist from 1.1.0 on.
        if (versionAtLeast(version, "1.1.0")) {
          expectOk(await cni("STATUS", config));
          expectOk(await cni("GC", config, { valid: [] }));
        } else {
          expectErr(await cni("STATUS", config), 1);
          expectErr(await cni("GC", config, { valid: [] }), 1);
        }
      }, 60_000);
    }
  }

  test("VERSION with empty stdin, and with {cniVersion} for each version; no other env needed", async () => {
    const empty = await run([join(bin, "tartan")], {
      stdin: "",
      env: { PATH: process.env.PATH ?? "", CNI_COMMAND: "VERSION" },
      allowFailure: true,
    });
    expect(empty.code).toBe(0);
    expect(JSON.parse(empty.stdout)).toEqual({
      cniVersion: "1.1.0",
      supportedVersions: [...SUPPORTED_CNI_VERSIONS],
    });
    for (const v of SUPPORTED_CNI_VERSIONS) {
      const r = await run([join(bin, "tartan")], {
        stdin: JSON.stringify({ cniVersion: v }),
        env: { PATH: process.env.PATH ?? "", CNI_COMMAND: "VERSION" },
        allowFailure: true,
      });
      expect(JSON.parse(r.stdout).cniVersion).toBe(v);
    }
    const ipam = await run([join(bin, "tartan-ipam")], {
      stdin: "",
      env: { PATH: process.env.PATH ?? "", CNI_COMMAND: "VERSION" },
      allowFailure: true,
    });
    expect(JSON.parse(ipam.stdout).supportedVersions).toEqual([...SUPPORTED_CNI_VERSIONS]);
  });

  test("bridge: pod↔pod ping on the same bridge (v4 and v6), ping to the gateway, hairpin on", async () => {
    await h.exec(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0"]);
    const c1 = await pod();
    const c2 = await pod();
    const config = conf({});
    const r1 = expectOk(await cni("ADD", config, { id: "p1", netns: c1.path }));
    const r2 = expectOk(await cni("ADD", config, { id: "p2", netns: c2.path }));
    const [b4, b6] = (r2.ips as Json[]).map((ip) => addr(String(ip.address)));
    expect(await ping(c1, b4!)).toBe(0);
    expect(await ping(c1, b6!)).toBe(0);
    const [a4] = (r1.ips as Json[]).map((ip) => addr(String(ip.address)));
    expect(await ping(c2, a4!)).toBe(0);
    expect(await ping(c1, "10.231.0.1")).toBe(0);
    expect(await ping(c1, "fd31::1")).toBe(0);
    for (const id of ["p1", "p2"]) {
      const port = (await linkOf(h, hostVethName("verbs", id, "eth0")))!;
      expect(((port.linkinfo as Json).info_slave_data as Json).hairpin).toBe(true);
    }
    expectOk(await cni("DEL", config, { id: "p1", netns: c1.path, prev: r1 }));
    expect(await ping(c2, a4!)).not.toBe(0);
    expectOk(await cni("DEL", config, { id: "p2", netns: c2.path, prev: r2 }));
  }, 60_000);

  test("routed: pod↔pod ping through the host (v4 and v6), pod → host address", async () => {
    // A host address the pods can reach through their link-local gateway.
    await h.exec(["ip", "link", "add", "hostlo", "type", "veth", "peer", "name", "hostlo-p"]);
    await h.exec(["ip", "addr", "add", "10.232.0.1/32", "dev", "hostlo"]);
    await h.exec(["ip", "link", "set", "hostlo", "up"]);
    await h.exec(["ip", "link", "set", "hostlo-p", "up"]);
    const c1 = await pod();
    const c2 = await pod();
    const config = conf({ mode: "routed" });
    const r1 = expectOk(await cni("ADD", config, { id: "p1", netns: c1.path }));
    const r2 = expectOk(await cni("ADD", config, { id: "p2", netns: c2.path }));
    const [a4, a6] = (r1.ips as Json[]).map((ip) => addr(String(ip.address)));
    const [b4, b6] = (r2.ips as Json[]).map((ip) => addr(String(ip.address)));
    expect(await ping(c1, b4!)).toBe(0);
    expect(await ping(c2, a4!)).toBe(0);
    expect(await ping(c1, b6!)).toBe(0);
    expect(await ping(c2, a6!)).toBe(0);
    expect(await ping(c1, "10.232.0.1")).toBe(0);
    expectOk(await cni("DEL", config, { id: "p1", netns: c1.path, prev: r1 }));
    expectOk(await cni("DEL", config, { id: "p2", netns: c2.path, prev: r2 }));
    expect(await ipj(h, ["route", "show", "proto", "201"])).toEqual([]);
  }, 60_000);

  test("MTU default = MTU of the host's default-route interface (1400)", async () => {
    const up = await pod("up");
    await vethBetween("up0", { ns: h, cidr: "192.0.2.2/24" }, { ns: up }, 1400);
    await h.exec(["ip", "route", "add", "default", "via", "192.0.2.1", "dev", "up0"]);
    for (const mode of ["bridge", "routed"] as const) {
      const c = await pod();
      const config = conf({ mode, mtu: null, name: `mtu-${mode}` });
      const r = expectOk(await cni("ADD", config, { netns: c.path }));
      expect((await linkOf(c, "eth0"))!.mtu).toBe(1400);
      expect((await linkOf(h, hostVethName(`mtu-${mode}`, "ctr1", "eth0")))!.mtu).toBe(1400);
      expect((r.interfaces as Json[]).find((i) => i.name === "eth0")!.mtu).toBe(1400);
      expectOk(await cni("DEL", config, { netns: c.path, prev: r }));
    }
  }, 60_000);

  test("CHECK fails when the pod address, the pod route or the host veth is removed", async () => {
    const c = await pod();
    const config = conf({ mode: "routed" });
    const r = expectOk(await cni("ADD", config, { netns: c.path }));
    expectOk(await cni("CHECK", config, { netns: c.path, prev: r }));
    await c.exec(["ip", "-6", "route", "del", "default"]);
    expect(expectErr(await cni("CHECK", config, { netns: c.path, prev: r }), 104)).toContain("::/0");
    const a6 = String((r.ips as Json[])[1]!.address);
    await c.exec(["ip", "addr", "del", a6, "dev", "eth0"]);
    expect(expectErr(await cni("CHECK", config, { netns: c.path, prev: r }), 104)).toContain(addr(a6));
    await h.exec(["ip", "link", "del", hostVethName("verbs", "ctr1", "eth0")]);
    expect(expectErr(await cni("CHECK", config, { netns: c.path, prev: r }), 104)).toMatch(/missing/);
    expectOk(await cni("DEL", config, { netns: c.path, prev: r }));
  }, 60_000);

  test("DEL with the container netns gone, with CNI_NETNS empty, and without prevResult", async () => {
    const config = conf({
      mode: "routed",
      ranges: [[{ subnet: V4, rangeStart: "10.231.0.9", rangeEnd: "10.231.0.9" }]],
    });
    const c = await pod();
    const r = expectOk(await cni("ADD", config, { netns: c.path }));
    await deleteNetns(c.name);
    expectOk(await cni("DEL", config, { netns: c.path, prev: r }));
    expect(await hostVeths()).toEqual([]);
    // Released: the single address can be taken again.
    const c2 = await pod();
    const r2 = expectOk(await cni("ADD", config, { id: "ctr2", netns: c2.path }));
    expect(String((r2.ips as Json[])[0]!.address)).toBe("10.231.0.9/32");
    expectOk(await cni("DEL", config, { id: "ctr2", netns: "" }));
    expect(await hostVeths()).toEqual([]);
    const r3 = expectOk(await cni("ADD", config, { id: "ctr3", netns: c2.path }));
    expectOk(await cni("DEL", config, { id: "ctr3", netns: c2.path }));
    expect(r3.ips).toBeDefined();
    expect(await ipj(h, ["route", "show", "proto", "201"])).toEqual([]);
  }, 60_000);

  test("STATUS: 0 with free addresses, 50 when the /30 is exhausted", async () => {
    const config = conf({ ranges: [[{ subnet: "10.233.0.0/30" }]], routes: [] });
    expectOk(await cni("STATUS", config));
    const c = await pod();
    const r = expectOk(await cni("ADD", config, { netns: c.path }));
    expect(expectErr(await cni("STATUS", config), 50)).toContain("10.233.0.0/30");
    expectOk(await cni("DEL", config, { netns: c.path, prev: r }));
    expectOk(await cni("STATUS", config));
  }, 60_000);

  test("GC removes stale attachments (veth + reservation) and keeps valid ones", async () => {
    const config = conf({
      ranges: [[{ subnet: V4, rangeStart: "10.231.0.20", rangeEnd: "10.231.0.21" }]],
      routes: [],
    });
    const ca = await pod();
    const cb = await pod();
    expectOk(await cni("ADD", config, { id: "a", netns: ca.path }));
    expectOk(await cni("ADD", config, { id: "b", netns: cb.path }));
    expectOk(await cni("GC", config, { valid: [{ containerID: "a", ifname: "eth0" }] }));
    expect(await hostVeths()).toEqual([hostVethName("verbs", "a", "eth0")]);
    expect(await linkOf(cb, "eth0")).toBeUndefined();
    expect(await linkOf(ca, "eth0")).toBeDefined();
    // b's address was released: a new pod gets it.
    const cc = await pod();
    const rc = expectOk(await cni("ADD", config, { id: "c", netns: cc.path }));
    expect(String((rc.ips as Json[])[0]!.address)).toBe("10.231.0.21/24");
    expectOk(await cni("GC", config, { valid: [] }));
    expect(await hostVeths()).toEqual([]);
  }, 60_000);

  test("tartan-ipam as the IPAM of the reference bridge plugin: ADD, CHECK, DEL release", async () => {
    const ipam = {
      type: "tartan-ipam",
      ranges: [[{ subnet: "10.234.0.0/24", rangeStart: "10.234.0.50", rangeEnd: "10.234.0.50" }]],
      routes: [{ dst: "0.0.0.0/0" }],
      dataDir: join(dir, "ext-ipam"),
    };
    const config = {
      cniVersion: "1.0.0",
      name: "refbr",
      type: "bridge",
      bridge: "ttref0",
      isGateway: true,
      ipam,
    };
    const bridge = join(REFERENCE, "bridge");
    const c = await pod();
    const r = expectOk(await cni("ADD", config, { netns: c.path, binary: bridge }));
    expect((r.ips as Json[])[0]!.address).toBe("10.234.0.50/24");
    expect(await addrsOf(c, "eth0")).toEqual(["10.234.0.50/24"]);
    expectOk(await cni("CHECK", config, { netns: c.path, prev: r, binary: bridge }));
    // Held: a second container cannot get the only address.
    const c2 = await pod();
    const busy = await cni("ADD", config, { id: "ctr2", netns: c2.path, binary: bridge });
    expect(busy.code).not.toBe(0);
    expect(String(busy.json?.msg)).toMatch(/no free/);
    expectOk(await cni("DEL", config, { id: "ctr2", netns: c2.path, binary: bridge }));
    expectOk(await cni("DEL", config, { netns: c.path, prev: r, binary: bridge }));
    const r2 = expectOk(await cni("ADD", config, { id: "ctr2", netns: c2.path, binary: bridge }));
    expect((r2.ips as Json[])[0]!.address).toBe("10.234.0.50/24");
    expectOk(await cni("DEL", config, { id: "ctr2", netns: c2.path, prev: r2, binary: bridge }));
  }, 60_000);

  test("tartan delegating to the reference host-local: ADD, CHECK, DEL release its lease file", async () => {
    const hl = join(dir, "host-local");
    const config = {
      ...conf({ version: "1.0.0" }),
      dataDir: join(dir, "state"),
      ipam: {
        type: "host-local",
        ranges: [[{ subnet: "10.235.0.0/24" }]],
        routes: [{ dst: "0.0.0.0/0" }],
        dataDir: hl,
      },
    };
    const c = await pod();
    const r = expectOk(await cni("ADD", config, { netns: c.path }));
    const ip = addr(String((r.ips as Json[])[0]!.address));
    expect(ip).toBe("10.235.0.2");
    expect((r.ips as Json[])[0]!.interface).toBe(2);
    expect(existsSync(join(hl, "verbs", ip))).toBe(true);
    expect(await addrsOf(c, "eth0")).toEqual(["10.235.0.2/24"]);
    expectOk(await cni("CHECK", config, { netns: c.path, prev: r }));
    expectOk(await cni("DEL", config, { netns: c.path, prev: r }));
    expect(existsSync(join(hl, "verbs", ip))).toBe(false);
    expect(await hostVeths()).toEqual([]);
    expectOk(await cni("DEL", config, { netns: c.path, prev: r }));
  }, 60_000);

  test("ipMasq: masquerade chain in table inet tartan, another table untouched, all gone after the last DEL", async () => {
    await h.exec(["nft", "-f", "-"], {
      stdin:
        "table ip other {\n chain post {\n type nat hook postrouting priority 100; policy accept;\n ip saddr 192.0.2.0/24 counter masquerade\n }\n}\n",
    });
    const other = (await h.exec(["nft", "list", "table", "ip", "other"])).stdout;
    const config = conf({ ipMasq: true });
    const c1 = await pod();
    const c2 = await pod();
    const r1 = expectOk(await cni("ADD", config, { id: "p1", netns: c1.path }));
    const r2 = expectOk(await cni("ADD", config, { id: "p2", netns: c2.path }));
    const listing = (await h.exec(["nft", "list", "table", "inet", "tartan"])).stdout;
    expect(listing).toContain("chain masq-verbs");
    expect(listing).toContain("hook postrouting");
    expect(listing).toMatch(/ip saddr 10\.231\.0\.0\/24 .*masquerade/);
    expect(listing).toMatch(/ip6 saddr fd31::\/64 .*masquerade/);
    expect(listing.match(/masquerade/g)).toHaveLength(2); // written once, not per pod
    expectOk(await cni("CHECK", config, { id: "p1", netns: c1.path, prev: r1 }));
    expectOk(await cni("DEL", config, { id: "p1", netns: c1.path, prev: r1 }));
    expect((await h.exec(["nft", "list", "table", "inet", "tartan"])).stdout).toContain("chain masq-verbs");
    expectOk(await cni("DEL", config, { id: "p2", netns: c2.path, prev: r2 }));
    // DEL removes the chain but leaves the (empty) table: only GC, which runs exclusively, may
    // drop the table without racing a concurrent ADD (docs/decisions/0004).
    expect((await h.exec(["nft", "list", "table", "inet", "tartan"])).stdout).not.toContain("chain");
    expect((await h.exec(["nft", "list", "table", "ip", "other"])).stdout).toBe(other);
    expectOk(await cni("DEL", config, { id: "p2", netns: c2.path, prev: r2 }));
    expect((await h.exec(["nft", "list", "table", "ip", "other"])).stdout).toBe(other);
    expectOk(await cni("GC", config, { valid: [] }));
    expect((await h.exec(["nft", "list", "table", "inet", "tartan"], { allowFailure: true })).code).not.toBe(
      0,
    );
    expect((await h.exec(["nft", "list", "table", "ip", "other"])).stdout).toBe(other);
  }, 60_000);

  test("error: netns path missing → code 3, nothing created", async () => {
    const r = await cni("ADD", conf({}), { netns: "/run/netns/tt-t-does-not-exist" });
    expectErr(r, 3);
    expect(await hostVeths()).toEqual([]);
    expect(await linkOf(h, "tartan0")).toBeUndefined();
  }, 60_000);

  for (const mode of ["bridge", "routed"] as const) {
    test(`error (${mode}): CNI_IFNAME already exists in the container → ADD fails and leaves nothing`, async () => {
      const c = await pod();
      await c.exec(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"]);
      const config = conf({
        mode,
        ranges: [[{ subnet: V4, rangeStart: "10.231.0.7", rangeEnd: "10.231.0.7" }]],
      });
      const r = await cni("ADD", config, { netns: c.path });
      expect(r.code).not.toBe(0);
      expect(String(r.json?.msg)).toMatch(/eth0/);
      expect(await hostVeths()).toEqual([]);
      expect(await ipj(h, ["route", "show", "proto", "201"])).toEqual([]);
      const links = (await ipj(c, ["link", "show"])).map((l) => String(l.ifname)).sort();
      expect(links).toEqual(["eth0", "eth0p", "lo"]);
      expect(await addrsOf(c, "eth0")).toEqual([]);
      // No reservation left: the only address goes to the next pod.
      const c2 = await pod();
      const ok = expectOk(await cni("ADD", config, { id: "ctr2", netns: c2.path }));
      expect(String((ok.ips as Json[])[0]!.address)).toMatch(/^10\.231\.0\.7\//);
      expectOk(await cni("DEL", config, { id: "ctr2", netns: c2.path, prev: ok }));
      expectOk(await cni("DEL", config, { netns: c.path }));
      expect((await ipj(c, ["link", "show"])).map((l) => String(l.ifname)).sort()).toEqual([
        "eth0",
        "eth0p",
        "lo",
      ]);
    }, 60_000);
  }

  test("error: node blocks and no agent at the socket → code 11 (try again later), nothing left", async () => {
    const socket = join(dir, "agent.sock"); // nothing listens there
    const config = conf({});
    config.ipam = { type: "tartan-ipam", nodeBlocks: true, agentSocket: socket, dataDir: join(dir, "ipam") };
    const c = await pod();
    const r = await cni("ADD", config, { netns: c.path });
    expect(expectErr(r, 11)).toContain(`the tartan agent does not answer at ${socket}`);
    expect(String(r.json?.details)).toContain("tartan policy status");
    expect(await hostVeths()).toEqual([]);
    expect(await linkOf(c, "eth0")).toBeUndefined();
    expectOk(await cni("DEL", config, { netns: c.path }));
  }, 60_000);

  test("error: exhausted /30 → second ADD fails with a clear error and leaves nothing", async () => {
    const config = conf({ ranges: [[{ subnet: "10.236.0.0/30" }]], routes: [{ dst: "0.0.0.0/0" }] });
    const c1 = await pod();
    const c2 = await pod();
    const r1 = expectOk(await cni("ADD", config, { id: "p1", netns: c1.path }));
    const r2 = await cni("ADD", config, { id: "p2", netns: c2.path });
    expect(expectErr(r2, 101)).toMatch(/no free IPv4 address.*10\.236\.0\.0\/30/);
    expect(await hostVeths()).toEqual([hostVethName("verbs", "p1", "eth0")]);
    expect(await linkOf(c2, "eth0")).toBeUndefined();
    expectOk(await cni("DEL", config, { id: "p2", netns: c2.path }));
    expectOk(await cni("DEL", config, { id: "p1", netns: c1.path, prev: r1 }));
  }, 60_000);

  for (const mode of ["bridge", "routed"] as const) {
    test(`concurrent ADDs (16 at once, ${mode}) get distinct addresses; concurrent DELs clean up`, async () => {
      const pods = await Promise.all(Array.from({ length: 16 }, () => pod()));
      const config = conf({ mode, ipMasq: true });
      const results = await Promise.all(
        pods.map((c, i) => cni("ADD", config, { id: `p${i}`, netns: c.path })),
      );
      for (const r of results) expectOk(r);
      const v4s = results.map((r) => String((r.json!.ips as Json[])[0]!.address));
      const v6s = results.map((r) => String((r.json!.ips as Json[])[1]!.address));
      expect(new Set(v4s).size).toBe(16);
      expect(new Set(v6s).size).toBe(16);
      expect((await hostVeths()).length).toBe(16);
      for (const [i, c] of pods.entries()) {
        expect(await addrsOf(c, "eth0")).toEqual([v4s[i]!, v6s[i]!].sort());
      }
      expect((await h.exec(["nft", "list", "table", "inet", "tartan"])).stdout).toContain("chain masq-verbs");
      const dels = await Promise.all(
        pods.map((c, i) => cni("DEL", config, { id: `p${i}`, netns: c.path, prev: results[i]!.json! })),
      );
      for (const d of dels) expectOk(d);
      expect(await hostVeths()).toEqual([]);
      // The chain goes with the last pod; the empty table stays until GC drops it.
      expect(
        (await h.exec(["nft", "list", "table", "inet", "tartan"], { allowFailure: true })).stdout,
      ).not.toContain("chain");
      expectOk(await cni("GC", config, { valid: [] }));
      expect(
        (await h.exec(["nft", "list", "table", "inet", "tartan"], { allowFailure: true })).code,
      ).not.toBe(0);
    }, 120_000);
  }
});
