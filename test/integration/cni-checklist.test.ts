// One test per item of reference/cni/CHECKLIST.md that the other suites do not already prove with
// the real binary (docs/cni-checklist.md maps every item to its test, or says why it has none).
// Test titles quote the item. The plugin runs inside a test namespace H standing in for the node.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostVethName } from "../../src/cni/host-veth-name.ts";
import {
  type CniCommand,
  type Conflist,
  type InvokeResult,
  invokeConflist,
  invokePlugin,
} from "../harness/cni-invoke.ts";
import { createNetns, deleteNetns, isRoot, type TestNetns } from "../harness/netns.ts";
import { privatePluginBin } from "../harness/tartan-binary.ts";

type Json = Record<string, unknown>;
const REFERENCE = "/usr/lib/cni";

let bin = "";
let h: TestNetns;
let dir = "";
let mine: TestNetns[] = [];

async function pod(): Promise<TestNetns> {
  const ns = await createNetns("c");
  mine.push(ns);
  return ns;
}

function conf(
  o: { name?: string; bridge?: string; subnet?: string; version?: string; extra?: Json } = {},
): Json {
  return {
    cniVersion: o.version ?? "1.1.0",
    name: o.name ?? "chk",
    type: "tartan",
    mode: "bridge",
    bridge: o.bridge ?? "tartan0",
    mtu: 1500,
    ipam: {
      type: "tartan-ipam",
      ranges: [[{ subnet: o.subnet ?? "10.241.0.0/24" }]],
      routes: [{ dst: "0.0.0.0/0" }],
      dataDir: join(dir, "ipam"),
    },
    ...o.extra,
  };
}

function cni(
  command: CniCommand,
  config: Json,
  o: {
    id?: string;
    netns?: string;
    ifname?: string;
    prev?: Json;
    cniArgs?: string;
    path?: string[];
    env?: Record<string, string>;
  } = {},
): Promise<InvokeResult> {
  return invokePlugin({
    binary: join(bin, "tartan"),
    command,
    containerId: o.id ?? "ctr1",
    netns: o.netns ?? "",
    ifname: o.ifname ?? "eth0",
    cniPath: o.path ?? [bin, REFERENCE],
    config: o.prev ? { ...config, prevResult: o.prev } : config,
    hostNetns: h,
    ...(o.cniArgs ? { cniArgs: o.cniArgs } : {}),
    ...(o.env ? { env: o.env } : {}),
  });
}

function ok(r: InvokeResult): Json {
  expect({ code: r.code, out: r.code === 0 ? "" : r.stdout }).toEqual({ code: 0, out: "" });
  return r.json ?? {};
}

const firstIp = (r: Json) => String((r.ips as Json[])[0]!.address);

describe.skipIf(!isRoot)("CNI checklist items (real binary, test namespaces)", () => {
  beforeAll(async () => {
    bin = await privatePluginBin("tartan-chk-bin-");
  }, 300_000);

  afterAll(() => {
    if (bin) rmSync(bin, { recursive: true, force: true });
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tartan-chk-"));
    h = await createNetns("h");
    mine = [h];
  });

  afterEach(async () => {
    for (const ns of mine) await deleteNetns(ns.name);
    mine = [];
    rmSync(dir, { recursive: true, force: true });
  });

  test("§0 Failure: exit ≠ 0 and error JSON on **stdout** `{cniVersion, code, msg, details}` (libcni parses stdout; stderr is only for logs)", async () => {
    const c = await pod();
    const r = await cni("ADD", conf({ extra: { mode: "switch" } }), { netns: c.path });
    expect(r.code).not.toBe(0);
    expect(Object.keys(r.json!).sort()).toEqual(["cniVersion", "code", "details", "msg"]);
    expect(r.json!.code).toBe(7);
    expect(r.json!.cniVersion).toBe("1.1.0");
    // stderr carries only JSON log lines, never the result.
    for (const line of r.stderr.trim().split("\n").filter(Boolean))
      expect(JSON.parse(line).level).toBeDefined();
  });

  test("§0 Never print logs to stdout. Pass delegated plugins' stderr through to our stderr.", async () => {
    const noisy = join(bin, "noisy-ipam");
    writeFileSync(
      noisy,
      `#!/bin/sh\ncat >/dev/null\necho "noisy-ipam says hello on stderr" >&2\nif [ "$CNI_COMMAND" = ADD ]; then\n  echo '{"cniVersion":"1.0.0","ips":[{"address":"10.242.0.9/24","gateway":"10.242.0.1"}]}'\nfi\n`,
    );
    chmodSync(noisy, 0o755);
    const c = await pod();
    const config = {
      ...conf({ version: "1.0.0" }),
      dataDir: join(dir, "state"),
      ipam: { type: "noisy-ipam" },
    };
    const r = await cni("ADD", config, { netns: c.path });
    const result = ok(r);
    expect(() => JSON.parse(r.stdout)).not.toThrow(); // stdout is exactly the result
    expect(firstIp(result)).toBe("10.242.0.9/24");
    expect(r.stderr).toContain("noisy-ipam says hello on stderr");
    const del = await cni("DEL", config, { netns: c.path, prev: result });
    ok(del);
    expect(del.stdout).toBe("");
    expect(del.stderr).toContain("noisy-ipam says hello on stderr");
    rmSync(noisy);
  });

  test("§0 MUST tolerate concurrent invocations for *different* containers → lock shared state (IPAM store, nft, routes): mixed ADD/DEL on two networks sharing one store", async () => {
    const pods = await Promise.all(Array.from({ length: 12 }, () => pod()));
    const nets = [
      conf({ name: "chk-a", bridge: "tta0", subnet: "10.243.0.0/24", extra: { ipMasq: true } }),
      conf({ name: "chk-b", bridge: "ttb0", subnet: "10.244.0.0/24", extra: { ipMasq: true } }),
    ];
    // First wave: 6 pods; second wave adds 6 more while the first 6 are deleted.
    const first = await Promise.all(
      pods.slice(0, 6).map((c, i) => cni("ADD", nets[i % 2]!, { id: `p${i}`, netns: c.path })),
    );
    for (const r of first) ok(r);
    const second = await Promise.all([
      ...pods.slice(6).map((c, i) => cni("ADD", nets[i % 2]!, { id: `p${i + 6}`, netns: c.path })),
      ...pods
        .slice(0, 6)
        .map((c, i) => cni("DEL", nets[i % 2]!, { id: `p${i}`, netns: c.path, prev: first[i]!.json! })),
    ]);
    for (const r of second) ok(r);
    const ips = second.slice(0, 6).map((r) => firstIp(r.json!));
    expect(new Set(ips).size).toBe(6);
    for (const [i, c] of pods.slice(6).entries()) {
      ok(await cni("CHECK", nets[i % 2]!, { id: `p${i + 6}`, netns: c.path, prev: second[i]!.json! }));
    }
    const nft = (await h.exec(["nft", "list", "table", "inet", "tartan"])).stdout;
    expect(nft).toContain("chain masq-chk-a");
    expect(nft).toContain("chain masq-chk-b");
  }, 120_000);

  test("§0 Runtime runs GC exclusively (no ADD/DEL in flight), but our own node agent may still be active → lock anyway: GC racing ADDs keeps every valid attachment", async () => {
    const config = conf();
    const stale = await pod();
    ok(await cni("ADD", config, { id: "stale", netns: stale.path }));
    const pods = await Promise.all(Array.from({ length: 8 }, () => pod()));
    const valid = pods.map((_, i) => ({ containerID: `v${i}`, ifname: "eth0" }));
    const gcConf = { ...config, "cni.dev/valid-attachments": valid };
    const all = await Promise.all([
      ...pods.map((c, i) => cni("ADD", config, { id: `v${i}`, netns: c.path })),
      cni("GC", gcConf),
    ]);
    for (const r of all) ok(r);
    for (const [i, c] of pods.entries())
      ok(await cni("CHECK", config, { id: `v${i}`, netns: c.path, prev: all[i]!.json! }));
    const veths = (await h.exec(["ip", "-o", "link", "show", "type", "veth"])).stdout;
    expect(veths).not.toContain(hostVethName("chk", "stale", "eth0"));
  }, 120_000);

  test("§1 CHECK gets exactly the same params as the ADD, except `CNI_PATH` may differ.", async () => {
    const c = await pod();
    const config = conf();
    const r = ok(await cni("ADD", config, { netns: c.path, cniArgs: "IgnoreUnknown=1;K8S_POD_NAME=a" }));
    ok(
      await cni("CHECK", config, {
        netns: c.path,
        prev: r,
        cniArgs: "IgnoreUnknown=1;K8S_POD_NAME=a",
        path: ["/nonexistent", bin],
      }),
    );
    ok(await cni("DEL", config, { netns: c.path, prev: r, path: ["/elsewhere"] }));
  });

  test("§1 Kubernetes CRI runtimes send `CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=..;K8S_POD_NAME=..;K8S_POD_INFRA_CONTAINER_ID=..;K8S_POD_UID=..` — honour `IgnoreUnknown`, never fail on unknown keys when it is set.", async () => {
    const c = await pod();
    const args =
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=ctr1;K8S_POD_UID=0f4d;SOMETHING_NEW=x";
    const r = ok(await cni("ADD", conf(), { netns: c.path, cniArgs: args }));
    ok(await cni("DEL", conf(), { netns: c.path, prev: r, cniArgs: args }));
  });

  test("§2 ADD/DEL/CHECK: `runtimeConfig` = capabilities both declared in our conf and supplied by the runtime; `capabilities` itself is removed (ips, mac through a conflist)", async () => {
    const c = await pod();
    const list: Conflist = {
      cniVersion: "1.1.0",
      name: "chk",
      plugins: [{ ...conf(), capabilities: { ips: true, mac: true } }],
    };
    const base = {
      conflist: list,
      cniPath: [bin, REFERENCE],
      containerId: "ctr1",
      netns: c.path,
      ifname: "eth0",
      hostNetns: h,
      capabilityArgs: { ips: ["10.241.0.77/24"], mac: "c2:11:22:33:44:55", portMappings: [{ hostPort: 1 }] },
    };
    const add = await invokeConflist({ ...base, command: "ADD" });
    expect(add.code).toBe(0);
    expect(firstIp(add.result!)).toBe("10.241.0.77/24");
    const link = JSON.parse((await c.exec(["ip", "-j", "link", "show", "eth0"])).stdout) as Json[];
    expect(link[0]!.address).toBe("c2:11:22:33:44:55");
    expect((await invokeConflist({ ...base, command: "CHECK", prevResult: add.result! })).code).toBe(0);
    expect((await invokeConflist({ ...base, command: "DEL", prevResult: add.result! })).code).toBe(0);
  });

  test("§2 Reserved (never use for our own settings): `runtimeConfig`, `args`, any key starting `cni.dev/`; unknown keys tolerated", async () => {
    const c = await pod();
    const config = conf({
      extra: {
        "cni.dev/something": { a: 1 },
        args: { cni: { labels: [{ key: "k", value: "v" }] }, vendor: { x: 1 } },
        vendorExtension: true,
      },
    });
    const r = ok(await cni("ADD", config, { netns: c.path }));
    ok(await cni("CHECK", config, { netns: c.path, prev: r }));
    ok(await cni("DEL", config, { netns: c.path, prev: r }));
  });

  test("§3 ADD: same container may be attached to one network several times with different ifnames, and to several networks. Key stored state by (network name, containerID, ifname).", async () => {
    const c = await pod();
    // Both networks carry a default route: the later attachments append theirs (the first wins).
    const a = conf({});
    const b = conf({ name: "chk-other", bridge: "tto0", subnet: "10.245.0.0/24" });
    expect(((a.ipam as Json).routes as Json[]).some((r) => r.dst === "0.0.0.0/0")).toBe(true);
    const r0 = ok(await cni("ADD", a, { netns: c.path, ifname: "eth0" }));
    const r1 = ok(await cni("ADD", a, { netns: c.path, ifname: "eth1" }));
    const r2 = ok(await cni("ADD", b, { netns: c.path, ifname: "net2" }));
    expect(new Set([firstIp(r0), firstIp(r1), firstIp(r2)]).size).toBe(3);
    const defaults = (
      JSON.parse((await c.exec(["ip", "-j", "-4", "route", "show", "default"])).stdout) as Json[]
    )
      .map((r) => r.dev)
      .sort();
    expect(defaults).toEqual(["eth0", "eth1", "net2"]);
    ok(await cni("DEL", a, { netns: c.path, ifname: "eth1", prev: r1 }));
    // Only eth1 went: eth0 (same network) and net2 (other network) still check out.
    ok(await cni("CHECK", a, { netns: c.path, ifname: "eth0", prev: r0 }));
    ok(await cni("CHECK", b, { netns: c.path, ifname: "net2", prev: r2 }));
    const links = (JSON.parse((await c.exec(["ip", "-j", "link", "show"])).stdout) as Json[]).map(
      (l) => l.ifname,
    );
    expect(links.sort()).toEqual(["eth0", "lo", "net2"]);
    ok(await cni("DEL", a, { netns: c.path, ifname: "eth0", prev: r0 }));
    ok(await cni("DEL", b, { netns: c.path, ifname: "net2", prev: r2 }));
  });

  test("§3 GC: Don't touch state of other networks/runtimes sharing the node.", async () => {
    const ca = await pod();
    const cb = await pod();
    const a = conf();
    const b = conf({ name: "chk-b", bridge: "ttb0", subnet: "10.246.0.0/24" });
    ok(await cni("ADD", a, { id: "a", netns: ca.path }));
    const rb = ok(await cni("ADD", b, { id: "b", netns: cb.path }));
    ok(await cni("GC", { ...a, "cni.dev/valid-attachments": [] }));
    expect((await ca.exec(["ip", "link", "show", "eth0"], { allowFailure: true })).code).not.toBe(0);
    ok(await cni("CHECK", b, { id: "b", netns: cb.path, prev: rb }));
  });

  test("§5 DEL and CHECK: every plugin gets the **final** result of the whole ADD chain (tartan → reference tuning)", async () => {
    const c = await pod();
    const list: Conflist = {
      cniVersion: "1.0.0",
      name: "chk",
      plugins: [conf({ version: "1.0.0" }), { type: "tuning", mtu: 1400 }],
    };
    const base = {
      conflist: list,
      cniPath: [bin, REFERENCE],
      containerId: "ctr1",
      netns: c.path,
      ifname: "eth0",
      hostNetns: h,
    };
    const add = await invokeConflist({ ...base, command: "ADD" });
    expect(add.code).toBe(0);
    const mtu = (JSON.parse((await c.exec(["ip", "-j", "link", "show", "eth0"])).stdout) as Json[])[0]!.mtu;
    expect(mtu).toBe(1400); // tuning changed what tartan made: CHECK must allow it
    const check = await invokeConflist({ ...base, command: "CHECK", prevResult: add.result! });
    expect(check.steps.map((s) => [s.type, s.res.code, s.res.stdout])).toEqual([
      ["tartan", 0, ""],
      ["tuning", 0, ""],
    ]);
    const del = await invokeConflist({ ...base, command: "DEL", prevResult: add.result! });
    expect(del.steps.map((s) => [s.type, s.res.code])).toEqual([
      ["tuning", 0],
      ["tartan", 0],
    ]);
  });

  test("§8 Every request carries the chosen version; answer in it or fail with code 1.", async () => {
    const c = await pod();
    for (const v of ["0.1.0", "0.2.0", "1.2.0"]) {
      const r = await cni("ADD", conf({ version: v }), { netns: c.path });
      expect(r.code).not.toBe(0);
      expect(r.json).toMatchObject({ cniVersion: v, code: 1 });
    }
    const r = ok(await cni("ADD", conf({ version: "0.4.0" }), { netns: c.path }));
    expect(r.cniVersion).toBe("0.4.0");
    ok(await cni("DEL", conf({ version: "0.4.0" }), { netns: c.path, prev: r }));
  });

  test("§10 Pod IPs, cached results and `/var/lib/cni` can be lost on reboot → DEL/GC must work from our own state", async () => {
    const c = await pod();
    const config = conf({ extra: { mode: "routed" } });
    ok(await cni("ADD", config, { netns: c.path }));
    await deleteNetns(c.name);
    // No prevResult, no netns: DEL still removes the host veth and route and releases the address.
    ok(await cni("DEL", config, { netns: "" }));
    expect((await h.exec(["ip", "-o", "link", "show", "type", "veth"])).stdout.trim()).toBe("");
    expect((await h.exec(["ip", "route", "show", "proto", "201"])).stdout.trim()).toBe("");
  });
});
