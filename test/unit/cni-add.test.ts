// CNI ADD with fake deps: result shape per version, interface indexes, dual-stack, the bridge and
// routed kernel plans, MTU, rollback of a failed ADD, range exhaustion, interface clashes, prevResult.
import { describe, expect, test } from "bun:test";
import { hostVethName } from "../../src/cni/host-veth-name.ts";
import { FakeCni, tartanConf } from "../harness/fake-cni-deps.ts";

type Json = Record<string, unknown>;
const DIR = "/fake/ipam";
const DUAL = { v4: "10.88.0.0/16", v6: "fd88::/64", routes: [{ dst: "0.0.0.0/0" }, { dst: "::/0" }] };

function setup() {
  const cni = new FakeCni();
  const netns = cni.netns("pod1");
  return { cni, netns };
}

const ifaces = (r: Json) => r.interfaces as Json[];
const ips = (r: Json) => r.ips as Json[];
const routes = (r: Json) => r.routes as Json[];

describe("ADD result format by version (checklist §4)", () => {
  for (const v of ["0.3.0", "0.3.1", "0.4.0"]) {
    test(`${v}: every ips[] entry has version "4"|"6"; routes only dst/gw; no interface mtu`, async () => {
      const { cni, netns } = setup();
      const out = await cni.invoke({ command: "ADD", netns }, tartanConf({ version: v, ...DUAL }));
      expect(out.exitCode).toBe(0);
      const r = out.json!;
      expect(r.cniVersion).toBe(v);
      expect(ips(r).map((ip) => ip.version)).toEqual(["4", "6"]);
      for (const rt of routes(r)) for (const k of Object.keys(rt)) expect(["dst", "gw"]).toContain(k);
      for (const i of ifaces(r)) expect(i.mtu).toBeUndefined();
    });
  }

  test("1.0.0: no ips[].version, no interface mtu (1.1.0 additions dropped)", async () => {
    const { cni, netns } = setup();
    const r = (await cni.invoke({ command: "ADD", netns }, tartanConf({ version: "1.0.0", ...DUAL }))).json!;
    expect(r.cniVersion).toBe("1.0.0");
    for (const ip of ips(r)) expect("version" in ip).toBe(false);
    for (const i of ifaces(r)) {
      expect("mtu" in i).toBe(false);
      expect("socketPath" in i).toBe(false);
    }
  });

  test("1.1.0: container interface carries its mtu, no ips[].version", async () => {
    const { cni, netns } = setup();
    const r = (await cni.invoke({ command: "ADD", netns }, tartanConf({ mtu: 1450, ...DUAL }))).json!;
    expect(r.cniVersion).toBe("1.1.0");
    const pod = ifaces(r).find((i) => i.sandbox === netns)!;
    expect(pod.mtu).toBe(1450);
    for (const ip of ips(r)) expect("version" in ip).toBe(false);
  });

  for (const mode of ["bridge", "routed"] as const) {
    for (const v of ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]) {
      test(`${mode} ${v}: interfaces list host side too; every ips[].interface indexes the container iface (sandbox = CNI_NETNS)`, async () => {
        const { cni, netns } = setup();
        const r = (await cni.invoke({ command: "ADD", netns }, tartanConf({ version: v, mode, ...DUAL })))
          .json!;
        const list = ifaces(r);
        const host = hostVethName("net1", "ctr1", "eth0");
        expect(list.map((i) => i.name)).toEqual(
          mode === "bridge" ? ["tartan0", host, "eth0"] : [host, "eth0"],
        );
        for (const i of list) {
          if (i.name === "eth0") expect(i.sandbox).toBe(netns);
          else expect(i.sandbox).toBeUndefined();
          expect(String(i.mac)).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
        }
        expect(ips(r)).toHaveLength(2);
        for (const ip of ips(r)) {
          const idx = ip.interface as number;
          expect(Number.isInteger(idx)).toBe(true);
          expect(list[idx]!.name).toBe("eth0");
          expect(list[idx]!.sandbox).toBe(netns);
        }
      });
    }
  }

  test("dual-stack: one IPv4 and one IPv6 entry on the container iface, both configured in the pod", async () => {
    const { cni, netns } = setup();
    const r = (await cni.invoke({ command: "ADD", netns }, tartanConf(DUAL))).json!;
    const addrs = ips(r).map((ip) => String(ip.address));
    expect(addrs.filter((a) => !a.includes(":"))).toHaveLength(1);
    expect(addrs.filter((a) => a.includes(":"))).toHaveLength(1);
    const inPod = (await cni.dp.addrs(netns, "eth0")).map((a) => a.cidr).sort();
    expect(inPod).toEqual(["10.88.0.2/16", "fd88::2/64"]);
  });

  test("dns from the config is in the result", async () => {
    const { cni, netns } = setup();
    const dns = { nameservers: ["10.96.0.10"], search: ["svc.cluster.local"] };
    const r = (await cni.invoke({ command: "ADD", netns }, tartanConf({ extra: { dns } }))).json!;
    expect(r.dns).toEqual(dns);
  });
});

describe("bridge mode kernel plan", () => {
  test("bridge with the gateways, veth as a hairpin port, pod default routes via the gateways", async () => {
    const { cni, netns } = setup();
    const r = (await cni.invoke({ command: "ADD", netns }, tartanConf(DUAL))).json!;
    const host = hostVethName("net1", "ctr1", "eth0");
    const br = (await cni.dp.link(null, "tartan0"))!;
    expect(br.kind).toBe("bridge");
    expect(br.up).toBe(true);
    expect((await cni.dp.addrs(null, "tartan0")).map((a) => a.cidr).sort()).toEqual([
      "10.88.0.1/16",
      "fd88::1/64",
    ]);
    const veth = (await cni.dp.link(null, host))!;
    expect(veth.master).toBe("tartan0");
    expect(veth.hairpin).toBe(true);
    expect(veth.up).toBe(true);
    const pod = (await cni.dp.link(netns, "eth0"))!;
    expect(pod.up).toBe(true);
    expect(pod.mac).toBe(String(ifaces(r).find((i) => i.name === "eth0")!.mac));
    const def4 = (await cni.dp.routes(netns, 4)).find((x) => x.dst === "default");
    expect(def4).toMatchObject({ via: "10.88.0.1", dev: "eth0" });
    const def6 = (await cni.dp.routes(netns, 6)).find((x) => x.dst === "default");
    expect(def6).toMatchObject({ via: "fd88::1", dev: "eth0" });
    expect(routes(r)).toEqual([
      { dst: "0.0.0.0/0", gw: "10.88.0.1" },
      { dst: "::/0", gw: "fd88::1" },
    ]);
  });

  test("a second pod reuses the bridge (no bridge-add) and gets the next address", async () => {
    const { cni, netns } = setup();
    await cni.invoke({ command: "ADD", netns }, tartanConf());
    cni.dp.resetCounters();
    const ns2 = cni.netns("pod2");
    const r = (await cni.invoke({ command: "ADD", netns: ns2, containerId: "ctr2" }, tartanConf())).json!;
    expect(cni.dp.applied.some((a) => a.op.op === "bridge-add")).toBe(false);
    expect(ips(r)[0]!.address).toBe("10.88.0.3/16");
  });

  test("a bridge created by a concurrent ADD between our look and our bridge-add is used, not an error", async () => {
    const { cni, netns } = setup();
    let raced = false;
    cni.dp.failNext((op) => {
      if (op.op !== "bridge-add" || raced) return false;
      raced = true; // the other ADD wins the race: the bridge exists when ours is tried
      void cni.dp.apply(null, [{ op: "bridge-add", name: "tartan0" }]);
      return true;
    }, "File exists");
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf());
    expect(raced).toBe(true);
    expect(out.exitCode).toBe(0);
    const veth = (await cni.dp.link(null, hostVethName("net1", "ctr1", "eth0")))!;
    expect(veth.master).toBe("tartan0");
    expect((await cni.dp.addrs(null, "tartan0")).map((a) => a.cidr)).toEqual(["10.88.0.1/16"]);
  });

  test("hairpinMode false leaves hairpin off", async () => {
    const { cni, netns } = setup();
    await cni.invoke({ command: "ADD", netns }, tartanConf({ extra: { hairpinMode: false } }));
    const veth = (await cni.dp.link(null, hostVethName("net1", "ctr1", "eth0")))!;
    expect(veth.hairpin).toBe(false);
  });
});

describe("routed mode kernel plan", () => {
  test("host /32 and /128 routes proto 201 via the veth, link-local gateway, static neighbours", async () => {
    const { cni, netns } = setup();
    const r = (await cni.invoke({ command: "ADD", netns }, tartanConf({ mode: "routed", ...DUAL }))).json!;
    const host = hostVethName("net1", "ctr1", "eth0");
    expect(await cni.dp.link(null, "tartan0")).toBeUndefined();
    const veth = (await cni.dp.link(null, host))!;
    expect(veth.mac).toBe("ee:ee:ee:ee:ee:ee");
    expect(veth.master).toBeUndefined();
    const h4 = (await cni.dp.routes(null, 4)).find((x) => x.dev === host)!;
    expect(h4).toMatchObject({ dst: "10.88.0.2/32", proto: 201, scope: "link" });
    const h6 = (await cni.dp.routes(null, 6)).find((x) => x.dev === host)!;
    expect(h6).toMatchObject({ dst: "fd88::2/128", proto: 201 });
    // Pod: host prefixes, gateway route on-link, default via the link-local gateways.
    expect((await cni.dp.addrs(netns, "eth0")).map((a) => a.cidr).sort()).toEqual([
      "10.88.0.2/32",
      "fd88::2/128",
    ]);
    const p4 = await cni.dp.routes(netns, 4);
    expect(p4.find((x) => x.dst === "169.254.1.1/32")).toMatchObject({ dev: "eth0", scope: "link" });
    expect(p4.find((x) => x.dst === "default")).toMatchObject({ via: "169.254.1.1", dev: "eth0" });
    const p6 = await cni.dp.routes(netns, 6);
    expect(p6.find((x) => x.dst === "default")).toMatchObject({
      via: "fe80::ecee:eeff:feee:eeee",
      dev: "eth0",
    });
    // Static neighbours both ways.
    const podMac = String(ifaces(r).find((i) => i.name === "eth0")!.mac);
    expect((await cni.dp.neighbours(netns)).map((n) => `${n.ip} ${n.mac}`).sort()).toEqual([
      "169.254.1.1 ee:ee:ee:ee:ee:ee",
      "fe80::ecee:eeff:feee:eeee ee:ee:ee:ee:ee:ee",
    ]);
    expect((await cni.dp.neighbours(null)).map((n) => `${n.dev} ${n.ip} ${n.mac}`).sort()).toEqual([
      `${host} 10.88.0.2 ${podMac}`,
      `${host} fd88::2 ${podMac}`,
    ]);
    // Proxy ARP and forwarding on the host.
    expect(await cni.dp.sysctlGet(null, `net/ipv4/conf/${host}/proxy_arp`)).toBe("1");
    expect(await cni.dp.sysctlGet(null, "net/ipv4/ip_forward")).toBe("1");
    expect(await cni.dp.sysctlGet(null, "net/ipv6/conf/all/forwarding")).toBe("1");
    // Result: host prefixes and the link-local gateways.
    expect(ips(r).map((ip) => [ip.address, ip.gateway])).toEqual([
      ["10.88.0.2/32", "169.254.1.1"],
      ["fd88::2/128", "fe80::ecee:eeff:feee:eeee"],
    ]);
    expect(routes(r)).toEqual([
      { dst: "0.0.0.0/0", gw: "169.254.1.1" },
      { dst: "::/0", gw: "fe80::ecee:eeff:feee:eeee" },
    ]);
  });

  test("routed mode adds a default route per family even when ipam.routes is empty", async () => {
    const { cni, netns } = setup();
    const r = (
      await cni.invoke({ command: "ADD", netns }, tartanConf({ mode: "routed", ...DUAL, routes: [] }))
    ).json!;
    expect(routes(r).map((x) => x.dst)).toEqual(["0.0.0.0/0", "::/0"]);
    expect((await cni.dp.routes(netns, 6)).some((x) => x.dst === "default")).toBe(true);
  });
});

describe("MTU", () => {
  test("default MTU = MTU of the host's default-route interface", async () => {
    const { cni, netns } = setup();
    const up = cni.netns("uplink");
    await cni.dp.apply(null, [
      { op: "veth-add", name: "uplink0", peer: "peer0", peerNetns: up, mtu: 1400 },
      { op: "addr-add", dev: "uplink0", cidr: "192.0.2.2/24" },
      { op: "link-set", name: "uplink0", up: true },
      { op: "route-add", dst: "default", family: 4, via: "192.0.2.1" },
    ]);
    const r = (await cni.invoke({ command: "ADD", netns }, tartanConf({ mtu: undefined }))).json!;
    expect((await cni.dp.link(netns, "eth0"))!.mtu).toBe(1400);
    expect((await cni.dp.link(null, hostVethName("net1", "ctr1", "eth0")))!.mtu).toBe(1400);
    expect(ifaces(r).find((i) => i.name === "eth0")!.mtu).toBe(1400);
  });

  test("without a default route the MTU is 1500; a configured mtu wins", async () => {
    const { cni, netns } = setup();
    await cni.invoke({ command: "ADD", netns }, tartanConf({ mtu: undefined }));
    expect((await cni.dp.link(netns, "eth0"))!.mtu).toBe(1500);
    const ns2 = cni.netns("pod2");
    await cni.invoke({ command: "ADD", netns: ns2, containerId: "c2" }, tartanConf({ mtu: 9000 }));
    expect((await cni.dp.link(ns2, "eth0"))!.mtu).toBe(9000);
  });
});

describe("ADD failures leave nothing behind (checklist §3 ADD: roll back before failing)", () => {
  async function expectNothingLeft(cni: FakeCni, netns: string) {
    expect(await cni.hostVeths()).toEqual([]);
    expect(await cni.linkNames(netns)).toEqual(["lo"]);
    expect(cni.reservations(DIR, "net1")).toEqual([]);
    expect(cni.attachments(DIR, "net1")).toEqual([]);
    expect((await cni.dp.routes(null, 4)).filter((r) => r.proto === 201)).toEqual([]);
  }

  for (const mode of ["bridge", "routed"] as const) {
    test(`${mode}: failure of a container-side op halfway → error, no veth, no reservation, no record`, async () => {
      const { cni, netns } = setup();
      cni.dp.failNext((op, ns) => ns === netns && op.op === "link-set", "Cannot allocate memory");
      const out = await cni.invoke({ command: "ADD", netns }, tartanConf({ mode, ...DUAL }));
      expect(out.exitCode).not.toBe(0);
      expect(String(out.json!.msg)).toContain("Cannot allocate memory");
      expect(cni.dp.applied.some((a) => a.netns === netns)).toBe(true); // it did get halfway
      await expectNothingLeft(cni, netns);
    });

    test(`${mode}: failure of the host-side veth op → error, nothing left; a retry then succeeds`, async () => {
      const { cni, netns } = setup();
      cni.dp.failNext((op) => op.op === "veth-add", "No buffer space available");
      const out = await cni.invoke({ command: "ADD", netns }, tartanConf({ mode }));
      expect(out.exitCode).not.toBe(0);
      await expectNothingLeft(cni, netns);
      const again = await cni.invoke({ command: "ADD", netns }, tartanConf({ mode }));
      expect(again.exitCode).toBe(0);
      // One reservation (round-robin, like host-local: the cursor moved past the released address).
      expect(cni.reservations(DIR, "net1")).toEqual([
        `${String(ips(again.json!)[0]!.address).split("/")[0]} ctr1/eth0`,
      ]);
    });
  }

  test("failure after the veth exists (pod route) with ipMasq as the only pod → the masquerade chain goes too", async () => {
    const { cni, netns } = setup();
    cni.dp.failNext((op, ns) => ns === netns && op.op === "route-add", "Network is unreachable");
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf({ ipMasq: true }));
    expect(out.exitCode).not.toBe(0);
    await expectNothingLeft(cni, netns);
    // DEL leaves an empty table behind (only GC drops it, see masquerade.ts): no chain may be left.
    expect((await cni.nft.list(null, "inet", "tartan")) ?? "").not.toContain("chain");
    expect([...cni.markers.keys()]).toEqual([]);
  });

  test("nft failure on ADD with ipMasq → error and nothing left", async () => {
    const { cni, netns } = setup();
    cni.nft.failNext();
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf({ ipMasq: true }));
    expect(out.exitCode).not.toBe(0);
    await expectNothingLeft(cni, netns);
  });

  test("missing netns → code 3, nothing reserved", async () => {
    const { cni } = setup();
    const out = await cni.invoke({ command: "ADD", netns: "/run/netns/gone" }, tartanConf());
    expect(out.json!.code).toBe(3);
    expect(cni.reservations(DIR, "net1")).toEqual([]);
    expect(cni.dp.writes).toBe(0);
  });

  test("exhausted range → clear error, nothing reserved or created for the failed pod", async () => {
    const { cni, netns } = setup();
    const conf = tartanConf({ v4: "10.99.0.0/30" });
    expect((await cni.invoke({ command: "ADD", netns }, conf)).exitCode).toBe(0);
    const ns2 = cni.netns("pod2");
    const out = await cni.invoke({ command: "ADD", netns: ns2, containerId: "ctr2" }, conf);
    expect(out.exitCode).not.toBe(0);
    expect(out.json!.code).toBe(101);
    expect(String(out.json!.msg)).toMatch(/no free IPv4 address/);
    expect(String(out.json!.msg)).toContain("10.99.0.0/30");
    expect(cni.reservations(DIR, "net1")).toEqual(["10.99.0.2 ctr1/eth0"]);
    expect(cni.attachments(DIR, "net1")).toEqual(["ctr1/eth0"]);
    expect(await cni.linkNames(ns2)).toEqual(["lo"]);
    expect(await cni.hostVeths()).toEqual([hostVethName("net1", "ctr1", "eth0")]);
  });

  test("second ADD of the same (container, ifname) without DEL → error; the first attachment is intact", async () => {
    const { cni, netns } = setup();
    const first = (await cni.invoke({ command: "ADD", netns }, tartanConf())).json!;
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf());
    expect(out.exitCode).not.toBe(0);
    expect(out.json!.code).toBe(102);
    expect(cni.reservations(DIR, "net1")).toEqual(["10.88.0.2 ctr1/eth0"]);
    expect(cni.attachments(DIR, "net1")).toEqual(["ctr1/eth0"]);
    expect(await cni.linkNames(netns)).toEqual(["lo", "eth0"]);
    const check = await cni.invoke({ command: "CHECK", netns }, { ...tartanConf(), prevResult: first });
    expect(check.exitCode).toBe(0);
  });

  test("an interface with CNI_IFNAME already in the container → error, nothing created, the existing one untouched", async () => {
    const { cni, netns } = setup();
    await cni.dp.apply(netns, [{ op: "bridge-add", name: "eth0", mac: "02:00:00:00:00:99" }]);
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf());
    expect(out.exitCode).not.toBe(0);
    expect(String(out.json!.msg)).toMatch(/eth0/);
    expect(String(out.json!.msg)).toMatch(/exists/i);
    expect(await cni.hostVeths()).toEqual([]);
    expect(cni.reservations(DIR, "net1")).toEqual([]);
    expect(cni.attachments(DIR, "net1")).toEqual([]);
    expect((await cni.dp.link(netns, "eth0"))!.mac).toBe("02:00:00:00:00:99");
  });
});

describe("attachments, static IPs, MAC and prevResult", () => {
  test("the same container on one network twice with different ifnames: two attachments, two addresses", async () => {
    const { cni, netns } = setup();
    const conf = tartanConf({ routes: [] });
    const a = await cni.invoke({ command: "ADD", netns, ifname: "eth0" }, conf);
    const b = await cni.invoke({ command: "ADD", netns, ifname: "net1" }, conf);
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(0);
    expect(cni.attachments(DIR, "net1")).toEqual(["ctr1/eth0", "ctr1/net1"]);
    expect(cni.reservations(DIR, "net1")).toEqual(["10.88.0.2 ctr1/eth0", "10.88.0.3 ctr1/net1"]);
    expect((await cni.hostVeths()).sort()).toEqual(
      [hostVethName("net1", "ctr1", "eth0"), hostVethName("net1", "ctr1", "net1")].sort(),
    );
  });

  test("args.cni.ips beats CNI_ARGS IP= (checklist §9)", async () => {
    const { cni, netns } = setup();
    const conf = tartanConf({ extra: { args: { cni: { ips: ["10.88.7.7"] } } } });
    const r = (await cni.invoke({ command: "ADD", netns, cniArgs: "IgnoreUnknown=1;IP=10.88.8.8" }, conf))
      .json!;
    expect(ips(r)[0]!.address).toBe("10.88.7.7/16");
    const ns2 = cni.netns("p2");
    const r2 = (
      await cni.invoke(
        { command: "ADD", netns: ns2, containerId: "c2", cniArgs: "IP=10.88.8.8" },
        tartanConf(),
      )
    ).json!;
    expect(ips(r2)[0]!.address).toBe("10.88.8.8/16");
  });

  test("runtimeConfig.ips and runtimeConfig.mac are honoured", async () => {
    const { cni, netns } = setup();
    const conf = tartanConf({
      extra: { runtimeConfig: { ips: ["10.88.5.5/16"], mac: "C2:11:22:33:44:55" } },
    });
    const r = (await cni.invoke({ command: "ADD", netns }, conf)).json!;
    expect(ips(r)[0]!.address).toBe("10.88.5.5/16");
    expect((await cni.dp.link(netns, "eth0"))!.mac).toBe("c2:11:22:33:44:55");
  });

  test("prevResult is passed through: its interfaces/ips kept, our indexes shifted (checklist §3 ADD, §5)", async () => {
    const { cni, netns } = setup();
    const prev = {
      cniVersion: "0.4.0",
      interfaces: [{ name: "lo0", sandbox: netns }],
      ips: [{ version: "4", address: "192.168.9.9/24", interface: 0 }],
      routes: [{ dst: "192.168.0.0/16" }],
    };
    const r = (
      await cni.invoke({ command: "ADD", netns }, { ...tartanConf({ version: "0.4.0" }), prevResult: prev })
    ).json!;
    expect(ifaces(r)[0]!.name).toBe("lo0");
    expect(ips(r)[0]).toEqual({ version: "4", interface: 0, address: "192.168.9.9/24" });
    const ours = ips(r)[1]!;
    expect(ifaces(r)[ours.interface as number]!.name).toBe("eth0");
    expect(routes(r).map((x) => x.dst)).toEqual(["192.168.0.0/16", "0.0.0.0/0"]);
  });
});
