// Tartan as the first plugin of a chain with the reference meta plugins (portmap, bandwidth,
// tuning), run the way libcni runs a conflist. Three test namespaces stand in for the machine:
//   H  the "host" (every plugin runs inside it via `ip netns exec`),
//   C  the container netns,
//   X  an outside client wired to H by a veth, used to reach the mapped host port.
// The same suite runs with the reference `bridge` plugin first as a baseline, so a failure there
// points at the harness or machine and a failure only in the tartan suite points at tartan.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/exec/run.ts";
import { type Conflist, invokeConflist, type JsonObject } from "../harness/cni-invoke.ts";
import { eventually } from "../harness/eventually.ts";
import { cleanupAllNetns, createNetns, isRoot, type TestNetns, vethBetween } from "../harness/netns.ts";
import { REFERENCE_PLUGIN_DIR, TARTAN_BINARY } from "../harness/podman.ts";

const hasTools = existsSync(`${REFERENCE_PLUGIN_DIR}/portmap`) && Bun.which("iptables") !== null;
const SUBNET = "10.213.62.0/24";
// One address only: a second ADD succeeds only if DEL really released the first.
const RANGE = {
  subnet: SUBNET,
  rangeStart: "10.213.62.10",
  rangeEnd: "10.213.62.10",
  gateway: "10.213.62.1",
};
const HOST_IP = "10.213.63.1";
const CAPS = {
  portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
  bandwidth: {
    ingressRate: 10_000_000,
    ingressBurst: 1_000_000,
    egressRate: 10_000_000,
    egressBurst: 1_000_000,
  },
};
// Reference plugins 1.1.1 speak up to 1.0.0, so libcni would pick 1.0.0 for this list.
const CNI_VERSION = "1.0.0";

function metaPlugins(): JsonObject[] {
  return [
    { type: "portmap", capabilities: { portMappings: true }, snat: true },
    { type: "bandwidth", capabilities: { bandwidth: true } },
    { type: "tuning", mtu: 1400, sysctl: { "net.ipv4.conf.eth0.log_martians": "1" } },
  ];
}

function firstPlugin(kind: "tartan" | "bridge", ipamDir: string): JsonObject {
  if (kind === "bridge") {
    const ipam = { type: "host-local", ranges: [[RANGE]], routes: [{ dst: "0.0.0.0/0" }], dataDir: ipamDir };
    return { type: "bridge", bridge: "tartan0", isGateway: true, hairpinMode: true, ipMasq: true, ipam };
  }
  const ipam = { type: "tartan-ipam", ranges: [[RANGE]], routes: [{ dst: "0.0.0.0/0" }], dataDir: ipamDir };
  return { type: "tartan", mode: "bridge", bridge: "tartan0", mtu: 1500, ipMasq: true, ipam };
}

function chainSuite(kind: "tartan" | "bridge") {
  describe.skipIf(!isRoot || !hasTools)(`chain ${kind} -> portmap -> bandwidth -> tuning`, () => {
    let h: TestNetns;
    let c: TestNetns;
    let x: TestNetns;
    let dir: string;
    let conflist: Conflist;
    let base: Omit<Parameters<typeof invokeConflist>[0], "command">;

    beforeAll(async () => {
      if (kind === "tartan" && !existsSync(TARTAN_BINARY))
        throw new Error(`${TARTAN_BINARY} missing: npm run build`);
      dir = mkdtempSync(join(tmpdir(), "tartan-chain-"));
      const bin = join(dir, "bin");
      await run(["mkdir", "-p", bin]);
      if (kind === "tartan") {
        copyFileSync(TARTAN_BINARY, join(bin, "tartan"));
        symlinkSync("tartan", join(bin, "tartan-ipam"));
      }
      h = await createNetns("h");
      c = await createNetns("c");
      x = await createNetns("x");
      // A real node forwards; a fresh namespace does not.
      await h.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
      await vethBetween("up0", { ns: h, cidr: `${HOST_IP}/30` }, { ns: x, cidr: "10.213.63.2/30" });
      conflist = {
        cniVersion: CNI_VERSION,
        name: `chain-${kind}`,
        plugins: [firstPlugin(kind, join(dir, "ipam")), ...metaPlugins()],
      };
      base = {
        conflist,
        cniPath: [bin, REFERENCE_PLUGIN_DIR],
        containerId: "chain-a",
        netns: c.path,
        ifname: "eth0",
        hostNetns: h,
        capabilityArgs: CAPS,
      };
    });

    afterAll(async () => {
      await cleanupAllNetns();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test("ADD runs the chain, CHECK passes, DEL cleans up in reverse", async () => {
      // Plugin binaries are looked up per type: tartan in the private dir, the rest in /usr/lib/cni.
      const add = await invokeConflist({ ...base, command: "ADD" });
      expect(add.steps.map((s) => s.res.stderr).join("")).toBe("");
      expect(add.code).toBe(0);
      const result = add.result!;

      // prevResult flowed: the final result still carries the first plugin's interfaces and IPs.
      const first = add.steps[0]!.res.json!;
      expect(result.ips).toEqual(first.ips);
      // Later plugins may append (bandwidth adds its ifb) but must keep ours, in order.
      const firstIfaces = first.interfaces as unknown[];
      expect((result.interfaces as unknown[]).slice(0, firstIfaces.length)).toEqual(firstIfaces);
      const ifaces = result.interfaces as { name: string; sandbox?: string }[];
      const ips = result.ips as { address: string; interface?: number }[];
      expect(ips[0]!.address).toBe("10.213.62.10/24");
      expect(ifaces[ips[0]!.interface!]).toMatchObject({ name: "eth0", sandbox: c.path });
      expect((await c.exec(["ip", "-4", "-o", "addr", "show", "eth0"])).stdout).toContain("10.213.62.10/24");

      // portmap: outside client -> host:8080 -> container:80 (one-shot listener; `timeout` bounds it).
      const listener = c.exec(
        ["timeout", "20", "busybox", "nc", "-l", "-p", "80", "-e", "echo", "hello-from-c"],
        {
          allowFailure: true,
        },
      );
      expect(await fetchFrom(x, HOST_IP, 8080)).toBe("hello-from-c");

      // bandwidth: tbf on the host-side veth (ingress shaping) plus an ifb device for egress.
      const hostVeth = await hostVethOf(h);
      expect((await h.exec(["tc", "qdisc", "show", "dev", hostVeth])).stdout).toContain("tbf");
      expect((await h.exec(["ip", "-o", "link", "show", "type", "ifb"])).stdout.trim()).not.toBe("");

      // tuning: MTU and sysctl applied inside the container.
      const link = JSON.parse((await c.exec(["ip", "-j", "link", "show", "eth0"])).stdout) as {
        mtu: number;
      }[];
      expect(link[0]!.mtu).toBe(1400);
      expect((await c.exec(["cat", "/proc/sys/net/ipv4/conf/eth0/log_martians"])).stdout.trim()).toBe("1");

      // CHECK right after ADD, with the final result; tartan must tolerate tuning's MTU change.
      const check = await invokeConflist({ ...base, command: "CHECK", prevResult: result });
      for (const s of check.steps) {
        if (s.type === "portmap" && /could not check ipv6 dnat/.test(s.res.stdout)) continue; // upstream bug, see below
        expect({ type: s.type, code: s.res.code, out: s.res.stdout }).toEqual({
          type: s.type,
          code: 0,
          out: "",
        });
      }
      if (check.code !== 0) {
        // Reference portmap 1.1.1 always checks ip6tables even for IPv4-only mappings
        // (containernetworking/plugins#819), so it stops the chain; CHECK the rest past it.
        expect(check.steps[check.steps.length - 1]!.type).toBe("portmap");
        const rest = { ...conflist, plugins: conflist.plugins.filter((p) => p.type !== "portmap") };
        const check2 = await invokeConflist({
          ...base,
          conflist: rest,
          command: "CHECK",
          prevResult: result,
        });
        expect(check2.steps.map((s) => [s.type, s.res.code, s.res.stdout])).toEqual(
          rest.plugins.map((p) => [String(p.type), 0, ""]),
        );
      }

      const del = await invokeConflist({ ...base, command: "DEL", prevResult: result });
      expect(del.steps.map((s) => s.type)).toEqual(["tuning", "bandwidth", "portmap", kind]);
      expect(del.steps.map((s) => [s.res.code, s.res.stdout])).toEqual(del.steps.map(() => [0, ""]));
      await listener;

      // Nothing left: veths (only the uplink remains), ifb, portmap chains, container interface.
      expect((await h.exec(["ip", "-o", "link", "show", "type", "veth"])).stdout).not.toMatch(
        /^\d+: (?!up0@)/m,
      );
      expect((await h.exec(["ip", "-o", "link", "show", "type", "ifb"])).stdout.trim()).toBe("");
      expect((await h.exec(["iptables", "-t", "nat", "-S"])).stdout).not.toContain("CNI-DN-");
      expect((await c.exec(["ip", "link", "show", "eth0"], { allowFailure: true })).code).not.toBe(0);

      // DEL again must succeed (idempotent), also with the container netns gone.
      const del2 = await invokeConflist({ ...base, netns: "", command: "DEL", prevResult: result });
      expect(del2.steps.map((s) => [s.type, s.res.code, s.res.stdout])).toEqual(
        del.steps.map((s) => [s.type, 0, ""]),
      );

      // The single address was released: another container can have it.
      const c2 = await createNetns("c2");
      const b2 = { ...base, containerId: "chain-b", netns: c2.path };
      const add2 = await invokeConflist({ ...b2, command: "ADD" });
      expect(add2.code).toBe(0);
      expect((add2.result!.ips as { address: string }[])[0]!.address).toBe("10.213.62.10/24");
      expect((await invokeConflist({ ...b2, command: "DEL", prevResult: add2.result })).code).toBe(0);
    }, 60_000);
  });
}

async function hostVethOf(h: TestNetns): Promise<string> {
  const links = JSON.parse((await h.exec(["ip", "-j", "link", "show", "type", "veth"])).stdout) as {
    ifname: string;
  }[];
  const veth = links.map((l) => l.ifname).find((n) => n !== "up0");
  if (!veth) throw new Error("no host-side veth in the host namespace");
  return veth;
}

/** What a TCP server at ip:port answers; retried while the listener starts (it is spawned async). */
async function fetchFrom(from: TestNetns, ip: string, port: number): Promise<string> {
  const answer = async () =>
    (
      await from.exec(["busybox", "nc", "-w", "2", ip, String(port)], { allowFailure: true, stdin: "" })
    ).stdout.trim();
  return await eventually(`an answer from ${ip}:${port}`, answer, {
    // Was 20 tries 150 ms apart; a refused connect returns at once, so that is ~3-5 s.
    timeoutMs: 5000,
    intervalMs: 150,
    until: (out) => out !== "",
    onTimeout: "last",
  });
}

chainSuite("bridge");
chainSuite("tartan");

// GC and STATUS exist only from 1.1.0, which the reference plugins do not speak: tartan alone.
describe.skipIf(!isRoot)("tartan alone at 1.1.0: STATUS and GC through the conflist runner", () => {
  let dir: string;
  afterAll(async () => {
    await cleanupAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("GC releases attachments missing from cni.dev/valid-attachments; STATUS succeeds", async () => {
    if (!existsSync(TARTAN_BINARY)) throw new Error(`${TARTAN_BINARY} missing: npm run build`);
    dir = mkdtempSync(join(tmpdir(), "tartan-gc-"));
    copyFileSync(TARTAN_BINARY, join(dir, "tartan"));
    symlinkSync("tartan", join(dir, "tartan-ipam"));
    const h = await createNetns("h");
    const range = {
      subnet: SUBNET,
      rangeStart: "10.213.62.10",
      rangeEnd: "10.213.62.11",
      gateway: "10.213.62.1",
    };
    const ipam = { type: "tartan-ipam", ranges: [[range]], dataDir: join(dir, "ipam") };
    const conflist: Conflist = {
      cniVersion: "1.1.0",
      name: "gc-net",
      plugins: [{ type: "tartan", mode: "bridge", bridge: "tartan0", ipMasq: true, ipam }],
    };
    const base = { conflist, cniPath: [dir], hostNetns: h, ifname: "eth0" };

    const status = await invokeConflist({ ...base, command: "STATUS" });
    expect([status.code, status.steps[0]?.res.stdout]).toEqual([0, ""]);

    const addIn = async (id: string) => {
      const ns = await createNetns(id);
      const r = await invokeConflist({ ...base, command: "ADD", containerId: id, netns: ns.path });
      expect([r.code, r.steps[0]?.res.stderr]).toEqual([0, ""]);
      return { ns, ip: (r.result!.ips as { address: string }[])[0]!.address, result: r.result! };
    };
    const a = await addIn("gc-a");
    const b = await addIn("gc-b");
    // Range full now; GC with only gc-a valid must free gc-b's address.
    const gc = await invokeConflist({
      ...base,
      command: "GC",
      validAttachments: [{ containerID: "gc-a", ifname: "eth0" }],
    });
    expect([gc.code, gc.steps[0]?.res.stdout]).toEqual([0, ""]);
    const c = await addIn("gc-c");
    expect(c.ip).toBe(b.ip);
    expect(c.ip).not.toBe(a.ip);
    for (const [id, att] of [
      ["gc-a", a],
      ["gc-c", c],
    ] as const) {
      const del = await invokeConflist({
        ...base,
        command: "DEL",
        containerId: id,
        netns: att.ns.path,
        prevResult: att.result,
      });
      expect(del.code).toBe(0);
    }
  }, 60_000);
});
