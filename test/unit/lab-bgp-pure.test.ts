// The BGP lab's pure parts: the FRR ToR's config and daemon argv, the outside host's addressing,
// the IPv6 underlay of BGP labs, the BGP objects `lab up` applies. The real ToR (zebra + bgpd
// peered with every node's bird) is covered by test/e2e/lab-bgp.test.ts. When FRR is installed,
// every generated bgpd config is also dry-run through `bgpd -C` (FRR exits 0 even on an unknown
// line, so the test reads its log for "No such command" / "Unknown command").
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { labAgentConfig } from "../../src/lab/lab-agent-config.ts";
import { LAB_RR_CLUSTER_ID, labBgpObjects } from "../../src/lab/lab-bgp-objects.ts";
import { labPaths } from "../../src/lab/lab-paths.ts";
import { frrCrashDir, frrDaemonArgv } from "../../src/lab/start-tor.ts";
import { LAB_OUTSIDE, LAB_TOR_AS, planTor } from "../../src/lab/tor-plan.ts";
import { torVtyshArgv } from "../../src/lab/tor-vtysh.ts";
import { labUnderlayMac, planUnderlay } from "../../src/lab/underlay-plan.ts";
import { ROUTE_REFLECTOR_LABEL } from "../../src/model/bgp-resources.ts";

const bridges = [{ name: "br0", cidr: "198.18.0.0/24", gateway: "198.18.0.1" }];
const plan = (password?: string) =>
  planTor({
    fabricNetns: "tl-x-fabric",
    outsideNetns: "tl-x-outside",
    dir: "/run/tartan-lab/x/tor",
    bridges,
    asNumber: LAB_TOR_AS,
    ...(password ? { password } : {}),
  });

describe("planTor", () => {
  test("eBGP listener on the node subnet, policy off, both families, peer address = the nodes' gateway", () => {
    const p = plan();
    expect(p.peerIP).toBe("198.18.0.1");
    expect(p.asNumber).toBe(65000);
    const lines = p.bgpdConfig.split("\n");
    expect(lines).toContain("router bgp 65000");
    expect(lines).toContain(" bgp router-id 198.18.0.1");
    expect(lines).toContain(" no bgp ebgp-requires-policy");
    expect(lines).toContain(" neighbor NODES remote-as external");
    expect(lines).toContain(" bgp listen range 198.18.0.0/24 peer-group NODES");
    // activated once per family
    expect(lines.filter((l) => l === "  neighbor NODES activate")).toHaveLength(2);
    expect(p.bgpdConfig).not.toContain("password");
    expect(plan("s3cret").bgpdConfig).toContain(" neighbor NODES password s3cret");
  });

  test("the outside host: its own /24 inside 198.18.0.0/15, default route via the fabric, IPv6 too", () => {
    const p = plan();
    expect(LAB_OUTSIDE.address).toMatch(/^198\.1[89]\./);
    expect(p.fabricLines).toContain("link add outside0 type veth peer name eth0 netns tl-x-outside");
    expect(p.fabricLines).toContain("addr add 198.18.255.1/24 dev outside0");
    expect(p.outsideLines).toContain("addr add 198.18.255.2/24 dev eth0");
    expect(p.outsideLines).toContain("route add default via 198.18.255.1 dev eth0");
    expect(p.outsideLines).toContain("route add default via fd00:198:18:ff::1 dev eth0");
  });

  test("daemons: own config, pid, zserv and vty sockets under the ToR dir; never the system's /etc/frr or /run/frr", () => {
    for (const d of ["zebra", "bgpd"] as const) {
      const argv = frrDaemonArgv(d, "/run/tartan-lab/x/tor");
      expect(argv[0]).toBe(`/usr/lib/frr/${d}`);
      expect(argv).toContain("-f");
      expect(argv[argv.indexOf("-f") + 1]).toBe(`/run/tartan-lab/x/tor/${d}.conf`);
      expect(argv[argv.indexOf("-i") + 1]).toBe(`/run/tartan-lab/x/tor/${d}.pid`);
      expect(argv[argv.indexOf("-z") + 1]).toBe("/run/tartan-lab/x/tor/zserv.api");
      expect(argv[argv.indexOf("--vty_socket") + 1]).toBe("/run/tartan-lab/x/tor");
      expect(argv[argv.indexOf("-P") + 1]).toBe("0"); // no TCP vty
      expect(argv).not.toContain("-d"); // foreground: the recorded PID is the daemon's
      expect(argv.join(" ")).not.toMatch(/\/etc\/frr|\/run\/frr|\/var\/run\/frr/);
    }
    const v = torVtyshArgv({ asNumber: 65000, peerIP: "198.18.0.1", dir: "/d" }, ["show bgp summary json"]);
    expect(v).toEqual(["vtysh", "--config_dir", "/d", "--vty_socket", "/d", "-c", "show bgp summary json"]);
  });

  const bgpd = "/usr/lib/frr/bgpd";
  /** `bgpd -C`, then the crash-log dir it leaves behind (by its PID) removed. */
  const dryRun = async (file: string): Promise<{ code: number; out: string }> => {
    const p = Bun.spawn([bgpd, "-C", "-f", file, "-u", "root", "-g", "frrvty", "--log", "stdout"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = (await new Response(p.stdout).text()) + (await new Response(p.stderr).text());
    const code = await p.exited;
    rmSync(frrCrashDir("bgpd", p.pid), { recursive: true, force: true });
    return { code, out };
  };
  test.skipIf(!existsSync(bgpd))("bgpd -C accepts every generated config (skipped without FRR)", async () => {
    const dir = mkdtempSync(`${tmpdir()}/tt-frr-`);
    try {
      for (const [i, p] of [plan(), plan("s3cret")].entries()) {
        const f = `${dir}/bgpd${i}.conf`;
        writeFileSync(f, p.bgpdConfig);
        const r = await dryRun(f);
        expect(r.code).toBe(0);
        expect(r.out).not.toMatch(/No such command|Unknown command|error/i);
      }
      // and the check itself can fail: a bad line is reported
      writeFileSync(`${dir}/bad.conf`, "router bgp 1\n bogus line\n");
      expect((await dryRun(`${dir}/bad.conf`)).out).toContain("No such command");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("BGP lab underlay and objects", () => {
  test("static neighbours: every node knows its gateway and every node of its subnet (50 nodes, 2 subnets)", () => {
    // The kernel's neighbour table is shared by all namespaces and capped at gc_thresh3 (1024)
    // for dynamic entries: a 50-node full mesh needs ~2550, so the lab plans permanent ones.
    const p = planUnderlay((i) => `n${i}`, 50, 2, true);
    const macOf = new Map<string, string>();
    for (const n of p.nodes) {
      expect(n.nodeLines).toContain(`link set eth0 address ${n.mac}`);
      macOf.set(n.address, n.mac);
      if (n.address6) macOf.set(n.address6, n.mac);
    }
    for (const b of p.bridges) {
      expect(p.fabricLines).toContain(`link add ${b.name} address ${labUnderlayMac(b.gateway)} type bridge`);
      macOf.set(b.gateway, labUnderlayMac(b.gateway));
      macOf.set(b.gateway6!, labUnderlayMac(b.gateway));
    }
    expect(new Set(p.nodes.map((n) => n.mac)).size).toBe(50);
    const entries = (lines: string[], dev: string) =>
      lines.flatMap((l) => {
        const m = new RegExp(`^neigh replace (\\S+) lladdr (\\S+) dev ${dev} nud permanent$`).exec(l);
        return m ? [[m[1]!, m[2]!] as const] : [];
      });
    for (const n of p.nodes) {
      const peers = p.nodes.filter((x) => x !== n && x.bridge === n.bridge);
      const b = p.bridges.find((x) => x.name === n.bridge)!;
      const want = [b.gateway, b.gateway6!, ...peers.flatMap((x) => [x.address, x.address6!])];
      const got = entries(n.nodeLines, "eth0");
      expect(got.map(([ip]) => ip).sort()).toEqual(want.sort());
      for (const [ip, mac] of got) expect(mac).toBe(macOf.get(ip)!);
      // after the interface is up (going down drops permanent entries too)
      expect(n.nodeLines.indexOf("link set eth0 up")).toBeLessThan(
        n.nodeLines.findIndex((l) => l.startsWith("neigh ")),
      );
    }
    for (const b of p.bridges) {
      const got = entries(p.fabricLines, b.name);
      const mine = p.nodes.filter((n) => n.bridge === b.name);
      expect(got.map(([ip]) => ip).sort()).toEqual(mine.flatMap((n) => [n.address, n.address6!]).sort());
      for (const [ip, mac] of got) expect(mac).toBe(macOf.get(ip)!);
    }
    expect(labUnderlayMac("198.18.1.61")).toBe("02:00:c6:12:01:3d");
  });

  test("IPv6 underlay (BGP + --ipv6): a ULA /64 per subnet, node i at ::<10+i> in hex, fabric ::1", () => {
    const p = planUnderlay((i) => `n${i}`, 3, 1, true);
    expect(p.bridges[0]).toMatchObject({ cidr6: "fd00:198:18:0::/64", gateway6: "fd00:198:18:0::1" });
    expect(p.nodes.map((n) => n.address6)).toEqual([
      "fd00:198:18:0::b",
      "fd00:198:18:0::c",
      "fd00:198:18:0::d",
    ]);
    expect(p.nodes[0]!.nodeLines).toContain("addr add fd00:198:18:0::b/64 dev eth0 nodad");
    expect(p.nodes[0]!.nodeLines).toContain("route add default via fd00:198:18:0::1 dev eth0");
    expect(p.fabricLines).toContain("addr add fd00:198:18:0::1/64 dev br0 nodad");
    // without: no IPv6 anywhere (vxlan labs carry IPv6 pods over the IPv4 underlay)
    const v4 = planUnderlay((i) => `n${i}`, 3, 1);
    expect(v4.nodes[0]!.address6).toBeUndefined();
    expect(v4.fabricLines.join("\n")).not.toContain("fd00:198");
  });

  test("objects: none by default; reflectors turn the mesh off and every node peers with them; a ToR is one global peer", () => {
    expect(labBgpObjects({})).toEqual([]);
    const rr = labBgpObjects({ routeReflectors: 2 });
    expect(rr.map((o) => o.kind)).toEqual(["BGPConfiguration", "BGPPeer"]);
    expect(rr[0]!.spec).toEqual({ nodeToNodeMeshEnabled: false });
    expect(rr[1]!.spec).toEqual({
      peerSelector: { matchExpressions: [{ key: ROUTE_REFLECTOR_LABEL, operator: "Exists" }] },
    });
    const tor = labBgpObjects({ tor: { peerIP: "198.18.0.1", asNumber: 65000, password: "pw" } });
    expect(tor).toHaveLength(1);
    // neither node nor nodeSelector: every node peers
    expect(tor[0]!.spec).toEqual({ peerIP: "198.18.0.1", asNumber: 65000, password: "pw" });
  });

  test("agent config: bird's dir in the node's dir for every backend; the RR cluster ID only for BGP", () => {
    const base = {
      nodeName: "node-1",
      nodeDir: "/run/tartan-lab/x/node-1",
      etcdEndpoint: "https://198.18.0.1:2379",
      network: "tartan-lab",
      podCidr: "10.244.0.0/16",
    };
    // Not the host's /run/tartan/bird: a vxlan node's agent looks there for a bird to retire.
    expect(
      labAgentConfig({ ...base, backend: "vxlan", bgp: { routeReflectorClusterID: "1.2.3.4" } }).bgp,
    ).toEqual({
      stateDir: "/run/tartan-lab/x/node-1/bird",
    });
    const c = labAgentConfig({
      ...base,
      backend: "bgp",
      bgp: { routeReflectorClusterID: LAB_RR_CLUSTER_ID },
    });
    expect(c.bgp).toEqual({
      stateDir: "/run/tartan-lab/x/node-1/bird",
      routeReflectorClusterID: "244.0.0.1",
    });
  });

  test("the outside host's namespace is the lab's (tl-<lab>-outside), its ToR dir inside the lab dir", () => {
    const p = labPaths("x", "/r");
    expect(p.outsideNetns).toBe("tl-x-outside");
    expect(p.outsideNetns.startsWith(p.netnsPrefix)).toBe(true);
    expect(p.torDir).toBe("/r/x/tor");
  });
});
