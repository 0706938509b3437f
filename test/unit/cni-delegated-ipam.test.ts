// Delegated IPAM (ipam.type other than tartan-ipam, found along CNI_PATH) with a recording plugin
// runner, and tartan-ipam as a standalone IPAM plugin. Checklist §3 (delegates), §4, §6.
import { describe, expect, test } from "bun:test";
import { hostVethName } from "../../src/cni/host-veth-name.ts";
import { FakeCni, type PluginCall } from "../harness/fake-cni-deps.ts";

type Json = Record<string, unknown>;
const STATE = "/fake/state";
const HOST_LOCAL_RESULT = {
  cniVersion: "1.0.0",
  ips: [
    { address: "10.1.0.5/24", gateway: "10.1.0.1" },
    { address: "fd01::5/64", gateway: "fd01::1" },
  ],
  routes: [{ dst: "0.0.0.0/0" }],
  dns: {},
};

function delegatedConf(version = "1.1.0", extra: Json = {}): Json {
  return {
    cniVersion: version,
    name: "dnet",
    type: "tartan",
    mode: "bridge",
    bridge: "tartan0",
    mtu: 1500,
    dataDir: STATE,
    ipam: { type: "host-local", ranges: [[{ subnet: "10.1.0.0/24" }]], dataDir: "/fake/host-local" },
    ...extra,
  };
}

function setup(handler?: (call: PluginCall) => { code: number; stdout: string; stderr: string }) {
  const cni = new FakeCni();
  const netns = cni.netns("pod1");
  cni.plugins.set(
    "host-local",
    handler ??
      ((call) =>
        call.env.CNI_COMMAND === "ADD"
          ? { code: 0, stdout: JSON.stringify(HOST_LOCAL_RESULT), stderr: "" }
          : { code: 0, stdout: "", stderr: "" }),
  );
  return { cni, netns };
}

describe("delegated IPAM (checklist §6)", () => {
  test("ADD runs the delegate found in CNI_PATH with the same env and the complete config", async () => {
    const { cni, netns } = setup();
    const conf = delegatedConf();
    const out = await cni.invoke(
      { command: "ADD", netns, cniPath: "/opt/x:/opt/cni/bin", cniArgs: "IgnoreUnknown=1;K8S_POD_NAME=p" },
      conf,
    );
    expect(out.exitCode).toBe(0);
    expect(cni.pluginCalls).toHaveLength(1);
    const call = cni.pluginCalls[0]!;
    expect(call.binary).toBe("/opt/x/host-local");
    expect(JSON.parse(call.stdin)).toEqual(conf);
    expect(call.env).toMatchObject({
      CNI_COMMAND: "ADD",
      CNI_CONTAINERID: "ctr1",
      CNI_NETNS: netns,
      CNI_IFNAME: "eth0",
      CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=p",
      CNI_PATH: "/opt/x:/opt/cni/bin",
    });
  });

  test("the delegate's abbreviated result becomes a full result: interfaces added, ips indexed to eth0", async () => {
    const { cni, netns } = setup();
    const r = (await cni.invoke({ command: "ADD", netns }, delegatedConf())).json!;
    const ifaces = r.interfaces as Json[];
    expect(ifaces.map((i) => i.name)).toEqual(["tartan0", hostVethName("dnet", "ctr1", "eth0"), "eth0"]);
    const ips = r.ips as Json[];
    expect(ips.map((ip) => [ip.address, ip.gateway, ip.interface])).toEqual([
      ["10.1.0.5/24", "10.1.0.1", 2],
      ["fd01::5/64", "fd01::1", 2],
    ]);
    expect(r.routes).toEqual([{ dst: "0.0.0.0/0", gw: "10.1.0.1" }]);
    expect((await cni.dp.addrs(netns, "eth0")).map((a) => a.cidr).sort()).toEqual([
      "10.1.0.5/24",
      "fd01::5/64",
    ]);
    // The attachment record lives in the config's dataDir (the delegate owns the reservations).
    expect(cni.attachments(STATE, "dnet")).toEqual(["ctr1/eth0"]);
  });

  test("a 0.4.0 delegate result (ips[].version) is accepted and we answer in the request's version", async () => {
    const { cni, netns } = setup(() => ({
      code: 0,
      stdout: JSON.stringify({
        cniVersion: "0.4.0",
        ips: [{ version: "4", address: "10.1.0.7/24", gateway: "10.1.0.1" }],
      }),
      stderr: "",
    }));
    const r = (await cni.invoke({ command: "ADD", netns }, delegatedConf("0.4.0"))).json!;
    expect(r.cniVersion).toBe("0.4.0");
    expect(r.ips).toEqual([{ version: "4", interface: 2, address: "10.1.0.7/24", gateway: "10.1.0.1" }]);
  });

  test("error JSON from the delegate becomes ours with its code and message; nothing left behind", async () => {
    const { cni, netns } = setup((call) =>
      call.env.CNI_COMMAND === "ADD"
        ? {
            code: 1,
            stdout: JSON.stringify({
              cniVersion: "1.1.0",
              code: 11,
              msg: "store is locked",
              details: "retry",
            }),
            stderr: "host-local: lock timeout\n",
          }
        : { code: 0, stdout: "", stderr: "" },
    );
    const out = await cni.invoke({ command: "ADD", netns }, delegatedConf());
    expect(out.exitCode).not.toBe(0);
    expect(out.json!.code).toBe(11);
    expect(String(out.json!.msg)).toContain("store is locked");
    expect(String(out.json!.details)).toContain("retry");
    expect(cni.dp.writes).toBe(0);
    expect(cni.attachments(STATE, "dnet")).toEqual([]);
    // Rolled back: the delegate got a DEL after its failed ADD.
    expect(cni.pluginCalls.map((c) => c.env.CNI_COMMAND)).toEqual(["ADD", "DEL"]);
    // Its stderr went to our log, not to stdout.
    // (at warn: the level the plugin writes to its stderr, checklist §0 "pass delegates' stderr through")
    expect(
      cni.logs.some((l) => l.level === "warn" && JSON.stringify(l.fields ?? {}).includes("lock timeout")),
    ).toBe(true);
  });

  test("a delegate that fails without JSON → our error names the plugin and its stderr", async () => {
    const { cni, netns } = setup(() => ({ code: 2, stdout: "", stderr: "segfault" }));
    const out = await cni.invoke({ command: "ADD", netns }, delegatedConf());
    expect(out.exitCode).not.toBe(0);
    expect(String(out.json!.msg)).toContain("host-local");
    expect(String(out.json!.msg)).toContain("segfault");
  });

  test("a delegate printing a non-JSON result → 6", async () => {
    const { cni, netns } = setup((call) =>
      call.env.CNI_COMMAND === "ADD"
        ? { code: 0, stdout: "hello", stderr: "" }
        : { code: 0, stdout: "", stderr: "" },
    );
    const out = await cni.invoke({ command: "ADD", netns }, delegatedConf());
    expect(out.json!.code).toBe(6);
    expect(await cni.hostVeths()).toEqual([]);
  });

  test("delegate not in CNI_PATH → 7 naming the plugin; nothing created", async () => {
    const cni = new FakeCni();
    const netns = cni.netns("pod1");
    const out = await cni.invoke({ command: "ADD", netns }, delegatedConf());
    expect(out.json!.code).toBe(7);
    expect(String(out.json!.msg)).toContain("host-local");
    expect(cni.dp.writes).toBe(0);
  });

  test("kernel failure after the delegate reserved → the delegate gets DEL (roll back)", async () => {
    const { cni, netns } = setup();
    cni.dp.failNext((_op, ns) => ns === netns);
    const out = await cni.invoke({ command: "ADD", netns }, delegatedConf());
    expect(out.exitCode).not.toBe(0);
    expect(cni.pluginCalls.map((c) => c.env.CNI_COMMAND)).toEqual(["ADD", "DEL"]);
    expect(await cni.hostVeths()).toEqual([]);
  });

  test("DEL, CHECK, GC and STATUS are forwarded to the delegate with the complete config", async () => {
    const { cni, netns } = setup();
    const conf = delegatedConf();
    const r = (await cni.invoke({ command: "ADD", netns }, conf)).json!;
    expect((await cni.invoke({ command: "CHECK", netns }, { ...conf, prevResult: r })).exitCode).toBe(0);
    const gc = { ...conf, "cni.dev/valid-attachments": [{ containerID: "ctr1", ifname: "eth0" }] };
    expect((await cni.invoke({ command: "GC" }, gc)).exitCode).toBe(0);
    expect((await cni.invoke({ command: "STATUS" }, conf)).exitCode).toBe(0);
    expect((await cni.invoke({ command: "DEL", netns }, { ...conf, prevResult: r })).exitCode).toBe(0);
    expect(cni.pluginCalls.map((c) => c.env.CNI_COMMAND)).toEqual(["ADD", "CHECK", "GC", "STATUS", "DEL"]);
    const gcCall = cni.pluginCalls[2]!;
    expect(JSON.parse(gcCall.stdin)["cni.dev/valid-attachments"]).toEqual([
      { containerID: "ctr1", ifname: "eth0" },
    ]);
    expect(JSON.parse(cni.pluginCalls[4]!.stdin).prevResult).toEqual(r);
  });

  for (const [verb, code] of [
    ["DEL", 11],
    ["CHECK", 104],
    ["GC", 7],
    ["STATUS", 50],
  ] as const) {
    test(`a delegate error on ${verb} is propagated with its code (${code})`, async () => {
      const { cni, netns } = setup((call) =>
        call.env.CNI_COMMAND === "ADD"
          ? { code: 0, stdout: JSON.stringify(HOST_LOCAL_RESULT), stderr: "" }
          : { code: 1, stdout: JSON.stringify({ code, msg: `delegate says no to ${verb}` }), stderr: "" },
      );
      const conf = delegatedConf();
      const r = (await cni.invoke({ command: "ADD", netns }, conf)).json!;
      const config =
        verb === "GC" ? { ...conf, "cni.dev/valid-attachments": [] } : { ...conf, prevResult: r };
      const out = await cni.invoke({ command: verb, netns }, config);
      expect(out.exitCode).not.toBe(0);
      expect(out.json!.code).toBe(code);
      expect(String(out.json!.msg)).toContain(`delegate says no to ${verb}`);
    });
  }
});

describe("tartan-ipam as a standalone IPAM plugin", () => {
  const ipamConf = (version = "1.1.0") => ({
    cniVersion: version,
    name: "ext",
    type: "bridge",
    bridge: "cni0",
    isGateway: true,
    ipam: {
      type: "tartan-ipam",
      ranges: [[{ subnet: "10.5.0.0/24" }], [{ subnet: "fd05::/64" }]],
      dataDir: "/fake/ext",
    },
  });

  test("ADD returns an abbreviated IPAM result (no interfaces, no ips[].interface) and reserves", async () => {
    const cni = new FakeCni();
    const out = await cni.invokeIpam({ command: "ADD", netns: "/run/netns/x" }, ipamConf());
    expect(out.exitCode).toBe(0);
    expect(out.json!.interfaces).toBeUndefined();
    const ips = out.json!.ips as Json[];
    expect(ips.map((ip) => ip.address)).toEqual(["10.5.0.2/24", "fd05::2/64"]);
    for (const ip of ips) expect("interface" in ip).toBe(false);
    expect(cni.reservations("/fake/ext", "ext")).toEqual(["10.5.0.2 ctr1/eth0", "fd05::2 ctr1/eth0"]);
    expect(cni.dp.writes).toBe(0);
  });

  test("0.4.0 results carry ips[].version", async () => {
    const cni = new FakeCni();
    const out = await cni.invokeIpam({ command: "ADD", netns: "/run/netns/x" }, ipamConf("0.4.0"));
    expect((out.json!.ips as Json[]).map((ip) => ip.version)).toEqual(["4", "6"]);
  });

  test("CHECK, DEL (twice), GC, STATUS, VERSION", async () => {
    const cni = new FakeCni();
    const inv = { netns: "/run/netns/x" };
    await cni.invokeIpam({ command: "ADD", ...inv }, ipamConf());
    expect((await cni.invokeIpam({ command: "CHECK", ...inv }, ipamConf())).exitCode).toBe(0);
    expect((await cni.invokeIpam({ command: "STATUS" }, ipamConf())).exitCode).toBe(0);
    const gc = await cni.invokeIpam(
      { command: "GC" },
      { ...ipamConf(), "cni.dev/valid-attachments": [{ containerID: "ctr1", ifname: "eth0" }] },
    );
    expect(gc.exitCode).toBe(0);
    expect(cni.reservations("/fake/ext", "ext")).toHaveLength(2);
    expect((await cni.invokeIpam({ command: "DEL", ...inv }, ipamConf())).exitCode).toBe(0);
    expect((await cni.invokeIpam({ command: "DEL", ...inv }, ipamConf())).exitCode).toBe(0);
    expect(cni.reservations("/fake/ext", "ext")).toEqual([]);
    const check = await cni.invokeIpam({ command: "CHECK", ...inv }, ipamConf());
    expect(check.json!.code).toBe(104);
    const v = await cni.invokeIpam({ command: "VERSION" }, "");
    expect(v.json!.supportedVersions).toEqual(["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]);
  });

  test("errors: bad JSON 6, unsupported version 1, exhausted range 101", async () => {
    const cni = new FakeCni();
    expect((await cni.invokeIpam({ command: "ADD", netns: "/run/netns/x" }, "{")).json!.code).toBe(6);
    expect(
      (await cni.invokeIpam({ command: "ADD", netns: "/run/netns/x" }, ipamConf("0.2.0"))).json!.code,
    ).toBe(1);
    const small = {
      ...ipamConf(),
      ipam: { type: "tartan-ipam", ranges: [[{ subnet: "10.6.0.0/30" }]], dataDir: "/fake/e" },
    };
    expect(
      (await cni.invokeIpam({ command: "ADD", netns: "/run/netns/x", containerId: "a" }, small)).exitCode,
    ).toBe(0);
    const out = await cni.invokeIpam({ command: "ADD", netns: "/run/netns/x", containerId: "b" }, small);
    expect(out.json!.code).toBe(101);
    expect((await cni.invokeIpam({ command: "STATUS" }, small)).json!.code).toBe(50);
  });
});
