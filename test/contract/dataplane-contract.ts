// The behaviour every Dataplane driver must share. Registered once against the fake kernel
// (test/unit, no root) and against both Linux drivers, LinuxDataplane and NetlinkDataplane, in
// fresh tt-t-* namespaces (test/integration), with the same expectations, so the fake cannot
// drift from the kernel.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Dataplane, NetnsRef } from "../../src/dataplane/dataplane.ts";
import type { KernelOp, LinkInfo, RouteInfo } from "../../src/dataplane/kernel-op.ts";

export interface DataplaneFixture {
  dp: Dataplane;
  /** The host side of a CNI call (null for the fake's host; a fresh namespace on Linux). */
  host: NetnsRef;
  /** A container namespace path (empty, lo down or up). */
  container: string;
  /** A namespace path that does not exist. */
  missing: string;
  cleanup(): Promise<void>;
}

/** The fields of a link both drivers must agree on (indexes and random MACs differ). */
function linkView(l: LinkInfo | undefined) {
  if (!l) return undefined;
  return { name: l.name, kind: l.kind, mtu: l.mtu, up: l.up, master: l.master, hairpin: l.hairpin };
}

function sortRoutes(routes: RouteInfo[]): RouteInfo[] {
  const key = (r: RouteInfo) => `${r.dst} ${r.dev ?? ""} ${r.via ?? ""}`;
  return [...routes].sort((a, b) => key(a).localeCompare(key(b)));
}

export function dataplaneContract(
  label: string,
  factory: () => Promise<DataplaneFixture>,
  opts: { skip?: boolean } = {},
): void {
  describe.skipIf(opts.skip ?? false)(`Dataplane contract: ${label}`, () => {
    let fx: DataplaneFixture;
    let dp: Dataplane;
    let host: NetnsRef;
    let ctr: string;

    beforeEach(async () => {
      fx = await factory();
      ({ dp, host, container: ctr } = fx);
    });
    afterEach(async () => {
      await fx?.cleanup();
    });

    const addrsOf = async (netns: NetnsRef) =>
      (await dp.addrs(netns))
        .filter((a) => a.dev !== "lo")
        .sort((a, b) => `${a.dev} ${a.cidr}`.localeCompare(`${b.dev} ${b.cidr}`));

    /** A veth `hostName` on the host with eth0 in the container, both up. */
    const wireVeth = async (hostName: string, mtu = 1500) => {
      await dp.apply(host, [
        { op: "veth-add", name: hostName, peer: "eth0", peerNetns: ctr, mtu },
        { op: "link-set", name: hostName, up: true },
      ]);
      await dp.apply(ctr, [{ op: "link-set", name: "eth0", up: true }]);
    };

    test("bridge mode: bridge, veth into the container, hairpin port, v4+v6 addresses, default routes", async () => {
      await dp.apply(host, [
        { op: "bridge-add", name: "tartan0" },
        {
          op: "veth-add",
          name: "tt0a1b2c3d4e5",
          peer: "eth0",
          peerNetns: ctr,
          mtu: 1400,
          peerMac: "0a:58:0a:16:00:05",
        },
        { op: "link-set", name: "tt0a1b2c3d4e5", master: "tartan0", hairpin: true, up: true },
        { op: "link-set", name: "tartan0", up: true },
        { op: "addr-add", dev: "tartan0", cidr: "10.22.0.1/24" },
        { op: "addr-add", dev: "tartan0", cidr: "fd22::1/64", nodad: true },
      ]);
      await dp.apply(ctr, [
        { op: "link-set", name: "eth0", up: true },
        { op: "addr-add", dev: "eth0", cidr: "10.22.0.5/24" },
        { op: "addr-add", dev: "eth0", cidr: "fd22::5/64", nodad: true },
        { op: "route-add", dst: "default", family: 4, via: "10.22.0.1" },
        { op: "route-add", dst: "default", family: 6, via: "fd22::1" },
      ]);

      expect(linkView(await dp.link(host, "tt0a1b2c3d4e5"))).toEqual({
        name: "tt0a1b2c3d4e5",
        kind: "veth",
        mtu: 1400,
        up: true,
        master: "tartan0",
        hairpin: true,
      });
      // A bridge whose MTU nobody set follows its ports, as in the kernel.
      expect(linkView(await dp.link(host, "tartan0"))).toEqual({
        name: "tartan0",
        kind: "bridge",
        mtu: 1400,
        up: true,
        master: undefined,
        hairpin: undefined,
      });
      const eth0 = await dp.link(ctr, "eth0");
      expect(linkView(eth0)).toEqual({
        name: "eth0",
        kind: "veth",
        mtu: 1400,
        up: true,
        master: undefined,
        hairpin: undefined,
      });
      expect(eth0?.mac).toBe("0a:58:0a:16:00:05");
      expect(eth0?.index).toBeGreaterThan(0);
      expect(await dp.link(host, "eth0")).toBeUndefined();

      expect(await addrsOf(host)).toEqual([
        { dev: "tartan0", cidr: "10.22.0.1/24", family: 4, scope: "global" },
        { dev: "tartan0", cidr: "fd22::1/64", family: 6, scope: "global" },
      ]);
      expect(await addrsOf(ctr)).toEqual([
        { dev: "eth0", cidr: "10.22.0.5/24", family: 4, scope: "global" },
        { dev: "eth0", cidr: "fd22::5/64", family: 6, scope: "global" },
      ]);
      expect(await dp.addrs(ctr, "eth0")).toHaveLength(2);

      expect(await dp.routes(host, 4)).toEqual([
        { dst: "10.22.0.0/24", family: 4, dev: "tartan0", scope: "link", proto: 2, table: 254 },
      ]);
      expect(sortRoutes(await dp.routes(ctr, 4))).toEqual([
        { dst: "10.22.0.0/24", family: 4, dev: "eth0", scope: "link", proto: 2, table: 254 },
        { dst: "default", family: 4, dev: "eth0", via: "10.22.0.1", scope: "global", proto: 3, table: 254 },
      ]);
      expect(sortRoutes(await dp.routes(ctr, 6))).toEqual([
        {
          dst: "default",
          family: 6,
          dev: "eth0",
          via: "fd22::1",
          scope: "global",
          proto: 3,
          metric: 1024,
          table: 254,
        },
        { dst: "fd22::/64", family: 6, dev: "eth0", scope: "global", proto: 2, metric: 256, table: 254 },
      ]);
    });

    test("routed mode: /32 host route with proto 201, link-local gateway via a scope link route", async () => {
      await wireVeth("tt1");
      await dp.apply(host, [
        { op: "route-add", dst: "10.30.0.5/32", family: 4, dev: "tt1", scope: "link", proto: 201 },
        { op: "route-add", dst: "fd30::5/128", family: 6, dev: "tt1", proto: 201 },
      ]);
      await dp.apply(ctr, [
        { op: "addr-add", dev: "eth0", cidr: "10.30.0.5/32" },
        { op: "addr-add", dev: "eth0", cidr: "fd30::5/128", nodad: true },
        { op: "route-add", dst: "169.254.1.1/32", family: 4, dev: "eth0", scope: "link" },
        { op: "route-add", dst: "default", family: 4, via: "169.254.1.1", dev: "eth0" },
        { op: "route-add", dst: "default", family: 6, via: "fe80::1", dev: "eth0" },
      ]);
      expect(await dp.routes(host, 4)).toEqual([
        { dst: "10.30.0.5/32", family: 4, dev: "tt1", scope: "link", proto: 201, table: 254 },
      ]);
      expect(await dp.routes(host, 6)).toEqual([
        { dst: "fd30::5/128", family: 6, dev: "tt1", scope: "global", proto: 201, metric: 1024, table: 254 },
      ]);
      expect(sortRoutes(await dp.routes(ctr, 4))).toEqual([
        { dst: "169.254.1.1/32", family: 4, dev: "eth0", scope: "link", proto: 3, table: 254 },
        { dst: "default", family: 4, dev: "eth0", via: "169.254.1.1", scope: "global", proto: 3, table: 254 },
      ]);
      expect(sortRoutes(await dp.routes(ctr, 6))).toEqual([
        {
          dst: "default",
          family: 6,
          dev: "eth0",
          via: "fe80::1",
          scope: "global",
          proto: 3,
          metric: 1024,
          table: 254,
        },
        // IPv6 keeps a kernel route even for a /128 address; IPv4 has none for a /32.
        { dst: "fd30::5/128", family: 6, dev: "eth0", scope: "global", proto: 2, metric: 256, table: 254 },
      ]);
      expect(await addrsOf(ctr)).toEqual([
        { dev: "eth0", cidr: "10.30.0.5/32", family: 4, scope: "global" },
        { dev: "eth0", cidr: "fd30::5/128", family: 6, scope: "global" },
      ]);
    });

    test("append: a second IPv4 default route through another interface; the same one again fails", async () => {
      await dp.apply(host, [
        { op: "veth-add", name: "tta1", peer: "eth0", peerNetns: ctr, mtu: 1500 },
        { op: "veth-add", name: "tta2", peer: "eth1", peerNetns: ctr, mtu: 1500 },
      ]);
      await dp.apply(ctr, [
        { op: "addr-add", dev: "eth0", cidr: "10.61.0.2/24" },
        { op: "addr-add", dev: "eth1", cidr: "10.62.0.2/24" },
        { op: "link-set", name: "eth0", up: true },
        { op: "link-set", name: "eth1", up: true },
        { op: "route-add", dst: "0.0.0.0/0", family: 4, dev: "eth0", via: "10.61.0.1", append: true },
        { op: "route-add", dst: "0.0.0.0/0", family: 4, dev: "eth1", via: "10.62.0.1", append: true },
      ]);
      const defaults = (await dp.routes(ctr, 4)).filter((r) => r.dst === "default");
      expect(defaults.map((r) => `${r.dev} ${r.via}`).sort()).toEqual(["eth0 10.61.0.1", "eth1 10.62.0.1"]);
      await expect(
        dp.apply(ctr, [
          { op: "route-add", dst: "0.0.0.0/0", family: 4, dev: "eth1", via: "10.62.0.1", append: true },
        ]),
      ).rejects.toThrow(/File exists/);
    });

    test("route options: metric, table, mtu and src are accepted; other tables stay out of routes()", async () => {
      await wireVeth("tt2");
      await dp.apply(ctr, [
        { op: "addr-add", dev: "eth0", cidr: "10.31.0.5/24" },
        {
          op: "route-add",
          dst: "10.80.0.0/16",
          family: 4,
          via: "10.31.0.1",
          metric: 50,
          mtu: 1300,
          src: "10.31.0.5",
        },
        { op: "route-add", dst: "10.81.0.0/16", family: 4, dev: "eth0", table: 100 },
      ]);
      const routes = await dp.routes(ctr, 4);
      expect(routes.find((r) => r.dst === "10.80.0.0/16")).toEqual({
        dst: "10.80.0.0/16",
        family: 4,
        dev: "eth0",
        via: "10.31.0.1",
        scope: "global",
        proto: 3,
        metric: 50,
        table: 254,
      });
      expect(routes.some((r) => r.dst === "10.81.0.0/16")).toBe(false);
      await dp.apply(ctr, [{ op: "route-del", dst: "10.81.0.0/16", family: 4, table: 100 }]);
      await expect(
        dp.apply(ctr, [{ op: "route-del", dst: "10.81.0.0/16", family: 4, table: 100 }]),
      ).rejects.toThrow(/No such process/);
    });

    test("replace makes address and route adds idempotent", async () => {
      await wireVeth("tt3");
      const ops: KernelOp[] = [
        { op: "addr-add", dev: "eth0", cidr: "10.32.0.5/24", replace: true },
        { op: "addr-add", dev: "eth0", cidr: "fd32::5/64", replace: true, nodad: true },
        { op: "route-add", dst: "default", family: 4, via: "10.32.0.1", replace: true },
      ];
      await dp.apply(ctr, ops);
      const first = { addrs: await addrsOf(ctr), routes: sortRoutes(await dp.routes(ctr, 4)) };
      await dp.apply(ctr, ops);
      expect({ addrs: await addrsOf(ctr), routes: sortRoutes(await dp.routes(ctr, 4)) }).toEqual(first);
      expect(first.routes.filter((r) => r.dst === "default")).toHaveLength(1);
      // replace moves the route to a new gateway
      await dp.apply(ctr, [{ op: "route-add", dst: "default", family: 4, via: "10.32.0.2", replace: true }]);
      expect((await dp.routes(ctr, 4)).filter((r) => r.dst === "default").map((r) => r.via)).toEqual([
        "10.32.0.2",
      ]);
    });

    test("a duplicate link fails, naming the op and the kernel's words; apply stops there", async () => {
      const err = await dp
        .apply(host, [
          { op: "bridge-add", name: "br-dup" },
          { op: "bridge-add", name: "br-dup" },
          { op: "bridge-add", name: "br-after" },
        ])
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      expect(err?.message).toMatch(/op 2 of 3 \(bridge-add name=br-dup\).*File exists/);
      expect((err as { code?: string }).code).toBe("kernel-op-failed");
      expect(await dp.link(host, "br-dup")).toBeDefined();
      expect(await dp.link(host, "br-after")).toBeUndefined();
    });

    test("a route via a gateway that is not on-link fails (v4 and v6)", async () => {
      await wireVeth("tt4");
      await dp.apply(ctr, [
        { op: "addr-add", dev: "eth0", cidr: "10.40.0.5/24" },
        { op: "addr-add", dev: "eth0", cidr: "fd40::5/64", nodad: true },
      ]);
      await expect(
        dp.apply(ctr, [{ op: "route-add", dst: "10.50.0.0/16", family: 4, via: "10.99.0.1" }]),
      ).rejects.toThrow(/route-add.*Nexthop has invalid gateway/);
      await expect(
        dp.apply(ctr, [{ op: "route-add", dst: "default", family: 6, via: "fd99::1" }]),
      ).rejects.toThrow(/No route to host/);
      // The default route via the link-local gateway needs its scope link route first.
      await expect(
        dp.apply(ctr, [{ op: "route-add", dst: "default", family: 4, via: "169.254.1.1", dev: "eth0" }]),
      ).rejects.toThrow(/invalid gateway/);
      expect((await dp.routes(ctr, 4)).some((r) => r.dst === "default")).toBe(false);
    });

    test("missing things: delete a missing link, address or route; a route through a down link", async () => {
      await expect(dp.apply(host, [{ op: "link-del", name: "nosuchlink" }])).rejects.toThrow(
        /Cannot find device "nosuchlink"/,
      );
      await wireVeth("tt5");
      await expect(dp.apply(ctr, [{ op: "addr-del", dev: "eth0", cidr: "10.9.0.1/24" }])).rejects.toThrow(
        /Address not found/i,
      );
      await expect(dp.apply(ctr, [{ op: "route-del", dst: "10.9.0.0/24", family: 4 }])).rejects.toThrow(
        /No such process/,
      );
      await dp.apply(host, [{ op: "bridge-add", name: "br-down" }]);
      await expect(
        dp.apply(host, [{ op: "route-add", dst: "10.9.0.0/24", family: 4, dev: "br-down" }]),
      ).rejects.toThrow(/not up/);
      await expect(dp.apply(host, [{ op: "link-set", name: "tt5", master: "nosuchbr" }])).rejects.toThrow(
        /link-set.*does not exist/,
      );
    });

    test("duplicate addresses and routes fail unless replace", async () => {
      await wireVeth("tt6");
      await dp.apply(ctr, [
        { op: "addr-add", dev: "eth0", cidr: "10.60.0.5/24" },
        { op: "route-add", dst: "10.61.0.0/16", family: 4, via: "10.60.0.1" },
      ]);
      await expect(dp.apply(ctr, [{ op: "addr-add", dev: "eth0", cidr: "10.60.0.5/24" }])).rejects.toThrow(
        /already assigned/i,
      );
      await expect(
        dp.apply(ctr, [{ op: "route-add", dst: "10.61.0.0/16", family: 4, via: "10.60.0.2" }]),
      ).rejects.toThrow(/File exists/);
    });

    test("a veth peer into a missing netns fails and leaves nothing behind", async () => {
      await expect(
        dp.apply(host, [{ op: "veth-add", name: "tt7", peer: "eth0", peerNetns: fx.missing, mtu: 1500 }]),
      ).rejects.toThrow(/veth-add.*netns/);
      expect(await dp.link(host, "tt7")).toBeUndefined();
    });

    test("deleting either end of a veth removes both, with their addresses and routes", async () => {
      await wireVeth("tt8");
      await dp.apply(host, [{ op: "route-add", dst: "10.70.0.5/32", family: 4, dev: "tt8", proto: 201 }]);
      await dp.apply(ctr, [{ op: "addr-add", dev: "eth0", cidr: "10.70.0.5/24" }]);
      await dp.apply(ctr, [{ op: "link-del", name: "eth0" }]);
      expect(await dp.link(host, "tt8")).toBeUndefined();
      expect(await dp.link(ctr, "eth0")).toBeUndefined();
      expect(await dp.routes(host, 4)).toEqual([]);
      expect(await dp.routes(ctr, 4)).toEqual([]);
      expect(await addrsOf(ctr)).toEqual([]);

      await wireVeth("tt9");
      await dp.apply(host, [{ op: "link-del", name: "tt9" }]);
      expect(await dp.link(ctr, "eth0")).toBeUndefined();
    });

    test("permanent neighbour entries: replace is idempotent, delete of a missing one fails, they go with the link", async () => {
      await wireVeth("tt11");
      const ops: KernelOp[] = [
        { op: "neigh-replace", dev: "eth0", ip: "169.254.1.1", mac: "ee:ee:ee:ee:ee:ee" },
        { op: "neigh-replace", dev: "eth0", ip: "fe80::ecee:eeff:feee:eeee", mac: "EE:EE:EE:EE:EE:EE" },
      ];
      await dp.apply(ctr, ops);
      await dp.apply(ctr, ops);
      const sorted = async () => (await dp.neighbours(ctr)).sort((a, b) => a.ip.localeCompare(b.ip));
      expect(await sorted()).toEqual([
        { dev: "eth0", ip: "169.254.1.1", mac: "ee:ee:ee:ee:ee:ee" },
        { dev: "eth0", ip: "fe80::ecee:eeff:feee:eeee", mac: "ee:ee:ee:ee:ee:ee" },
      ]);
      await dp.apply(ctr, [{ op: "neigh-del", dev: "eth0", ip: "169.254.1.1" }]);
      await expect(dp.apply(ctr, [{ op: "neigh-del", dev: "eth0", ip: "169.254.1.1" }])).rejects.toThrow(
        /neigh-del/,
      );
      await dp.apply(host, [{ op: "link-del", name: "tt11" }]);
      expect(await dp.neighbours(ctr)).toEqual([]);
    });

    test("addresses own their connected routes; a down link loses its IPv4 routes", async () => {
      await wireVeth("tt10");
      await dp.apply(ctr, [
        { op: "addr-add", dev: "eth0", cidr: "10.90.0.5/24" },
        { op: "addr-add", dev: "eth0", cidr: "10.91.0.5/24" },
        { op: "route-add", dst: "default", family: 4, via: "10.90.0.1" },
      ]);
      await dp.apply(ctr, [{ op: "addr-del", dev: "eth0", cidr: "10.91.0.5/24" }]);
      expect(sortRoutes(await dp.routes(ctr, 4)).map((r) => r.dst)).toEqual(["10.90.0.0/24", "default"]);
      await dp.apply(ctr, [{ op: "link-set", name: "eth0", up: false }]);
      expect(await dp.routes(ctr, 4)).toEqual([]);
      expect((await addrsOf(ctr)).map((a) => a.cidr)).toEqual(["10.90.0.5/24"]);
      expect((await dp.link(ctr, "eth0"))?.up).toBe(false);
    });

    test("bridge ports detach with master null; MTU changes apply", async () => {
      await dp.apply(host, [
        { op: "bridge-add", name: "br-p", mtu: 1500 },
        { op: "veth-add", name: "tt11", peer: "eth0", peerNetns: ctr, mtu: 1500 },
        { op: "link-set", name: "tt11", master: "br-p", hairpin: false },
      ]);
      expect(linkView(await dp.link(host, "tt11"))?.hairpin).toBe(false);
      await dp.apply(host, [{ op: "link-set", name: "tt11", master: null, mtu: 1450 }]);
      const port = await dp.link(host, "tt11");
      expect(port?.master).toBeUndefined();
      expect(port?.hairpin).toBeUndefined();
      expect(port?.mtu).toBe(1450);
      expect((await dp.links(host)).map((l) => l.name)).toEqual(
        expect.arrayContaining(["lo", "br-p", "tt11"]),
      );
      expect((await dp.links(host)).find((l) => l.name === "lo")?.kind).toBe("loopback");
    });

    test("sysctls: read and write per namespace, per device; missing keys read as undefined", async () => {
      await wireVeth("tt12");
      await dp.sysctlSet(host, "net/ipv4/conf/tt12/proxy_arp", "1");
      expect(await dp.sysctlGet(host, "net/ipv4/conf/tt12/proxy_arp")).toBe("1");
      await dp.sysctlSet(ctr, "net.ipv4.ip_forward", "1");
      expect(await dp.sysctlGet(ctr, "net/ipv4/ip_forward")).toBe("1");
      expect(await dp.sysctlGet(ctr, "net/ipv4/conf/eth0/forwarding")).toBe("1");
      expect(await dp.sysctlGet(ctr, "net/ipv4/conf/nosuchdev/forwarding")).toBeUndefined();
      await expect(dp.sysctlSet(ctr, "net/ipv4/conf/nosuchdev/forwarding", "1")).rejects.toThrow(/nosuchdev/);
    });

    /** An underlay link `ul0` (a bridge, up, 198.18.0.1/24) and `tartan.vxlan` on it, up. */
    const wireVxlan = async () => {
      await dp.apply(host, [
        { op: "bridge-add", name: "ul0", mtu: 1500 },
        { op: "link-set", name: "ul0", up: true },
        { op: "addr-add", dev: "ul0", cidr: "198.18.0.1/24" },
        {
          op: "vxlan-add",
          name: "tartan.vxlan",
          vni: 4096,
          dstport: 4789,
          local: "198.18.0.1",
          dev: "ul0",
          mtu: 1450,
          mac: "02:AA:00:00:00:01",
        },
        { op: "link-set", name: "tartan.vxlan", up: true },
      ]);
    };

    test("vxlan device: attributes read back, learning off; a duplicate name or VNI fails", async () => {
      await wireVxlan();
      const vx = await dp.link(host, "tartan.vxlan");
      expect(linkView(vx)).toEqual({
        name: "tartan.vxlan",
        kind: "vxlan",
        mtu: 1450,
        up: true,
        master: undefined,
        hairpin: undefined,
      });
      expect(vx?.mac).toBe("02:aa:00:00:00:01");
      expect(vx?.vxlan).toEqual({
        vni: 4096,
        dstport: 4789,
        local: "198.18.0.1",
        dev: "ul0",
        learning: false,
      });
      expect((await dp.link(host, "ul0"))?.vxlan).toBeUndefined();
      await expect(
        dp.apply(host, [{ op: "vxlan-add", name: "tartan.vxlan", vni: 7, dstport: 4789 }]),
      ).rejects.toThrow(/vxlan-add.*File exists/);
      await expect(
        dp.apply(host, [{ op: "vxlan-add", name: "vx2", vni: 4096, dstport: 4789, dev: "ul0" }]),
      ).rejects.toThrow(/VNI already exists/);
      await expect(
        dp.apply(host, [{ op: "vxlan-add", name: "vx3", vni: 9, dstport: 4789, dev: "nosuch" }]),
      ).rejects.toThrow(/Cannot find device "nosuch"/);
    });

    test("FDB entries: replace is idempotent and moves the VTEP, delete of a missing one fails, they go with the device", async () => {
      await wireVxlan();
      expect(await dp.fdb(host, "tartan.vxlan")).toEqual([]);
      expect(await dp.fdb(host, "nosuchdev")).toEqual([]);
      const ops: KernelOp[] = [
        { op: "fdb-replace", dev: "tartan.vxlan", mac: "02:AA:00:00:00:02", dst: "198.18.0.2" },
        { op: "fdb-replace", dev: "tartan.vxlan", mac: "02:aa:00:00:00:03", dst: "198.18.0.3" },
      ];
      await dp.apply(host, ops);
      await dp.apply(host, ops);
      const sorted = async () =>
        (await dp.fdb(host, "tartan.vxlan")).sort((a, b) => a.mac.localeCompare(b.mac));
      expect(await sorted()).toEqual([
        { dev: "tartan.vxlan", mac: "02:aa:00:00:00:02", dst: "198.18.0.2" },
        { dev: "tartan.vxlan", mac: "02:aa:00:00:00:03", dst: "198.18.0.3" },
      ]);
      await dp.apply(host, [
        { op: "fdb-replace", dev: "tartan.vxlan", mac: "02:aa:00:00:00:02", dst: "198.18.0.22" },
        { op: "fdb-del", dev: "tartan.vxlan", mac: "02:aa:00:00:00:03", dst: "198.18.0.3" },
      ]);
      expect(await sorted()).toEqual([{ dev: "tartan.vxlan", mac: "02:aa:00:00:00:02", dst: "198.18.0.22" }]);
      await expect(
        dp.apply(host, [{ op: "fdb-del", dev: "tartan.vxlan", mac: "02:aa:00:00:00:03", dst: "198.18.0.3" }]),
      ).rejects.toThrow(/fdb-del.*No such file or directory/);
      await expect(
        dp.apply(host, [
          { op: "fdb-replace", dev: "nosuchdev", mac: "02:aa:00:00:00:03", dst: "198.18.0.3" },
        ]),
      ).rejects.toThrow(/Cannot find device/);
      await dp.apply(host, [{ op: "link-del", name: "tartan.vxlan" }]);
      expect(await dp.fdb(host, "tartan.vxlan")).toEqual([]);
    });

    test("a mixed apply (links, FDB, routes) runs in order and stops at the first failure", async () => {
      await wireVxlan();
      const err = await dp
        .apply(host, [
          { op: "neigh-replace", dev: "tartan.vxlan", ip: "198.18.0.2", mac: "02:aa:00:00:00:02" },
          { op: "fdb-replace", dev: "tartan.vxlan", mac: "02:aa:00:00:00:02", dst: "198.18.0.2" },
          { op: "fdb-del", dev: "tartan.vxlan", mac: "02:aa:00:00:00:09", dst: "198.18.0.9" },
          { op: "fdb-replace", dev: "tartan.vxlan", mac: "02:aa:00:00:00:03", dst: "198.18.0.3" },
          {
            op: "route-add",
            dst: "10.244.2.0/26",
            family: 4,
            via: "198.18.0.2",
            dev: "tartan.vxlan",
            onlink: true,
          },
        ])
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      expect(err?.message).toMatch(/op 3 of 5 \(fdb-del .*No such file or directory/);
      expect((await dp.neighbours(host)).map((n) => n.ip)).toEqual(["198.18.0.2"]);
      expect((await dp.fdb(host, "tartan.vxlan")).map((f) => f.mac)).toEqual(["02:aa:00:00:00:02"]);
      expect((await dp.routes(host, 4)).some((r) => r.dst === "10.244.2.0/26")).toBe(false);
    });

    test("an independent apply names the first refused op; every op before it is applied", async () => {
      await wireVxlan();
      const ops: KernelOp[] = [
        { op: "neigh-replace", dev: "tartan.vxlan", ip: "198.18.0.2", mac: "02:aa:00:00:00:02" },
        { op: "fdb-replace", dev: "tartan.vxlan", mac: "02:aa:00:00:00:02", dst: "198.18.0.2" },
        { op: "fdb-del", dev: "tartan.vxlan", mac: "02:aa:00:00:00:09", dst: "198.18.0.9" },
        { op: "neigh-del", dev: "tartan.vxlan", ip: "198.18.0.9" },
        { op: "fdb-replace", dev: "tartan.vxlan", mac: "02:aa:00:00:00:03", dst: "198.18.0.3" },
      ];
      const err = await dp.apply(host, ops, { independent: true }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      // The first refusal is named even when the driver ran a later (also refused) op too.
      expect(err?.message).toMatch(/op 3 of 5 \(fdb-del .*No such file or directory/);
      expect((await dp.neighbours(host)).map((n) => n.ip)).toEqual(["198.18.0.2"]);
      expect((await dp.fdb(host, "tartan.vxlan")).map((f) => f.mac)).toContain("02:aa:00:00:00:02");
      // A missing device is refused as in an ordinary apply, after the ops before it.
      await expect(
        dp.apply(
          host,
          [
            { op: "neigh-replace", dev: "tartan.vxlan", ip: "198.18.0.4", mac: "02:aa:00:00:00:04" },
            { op: "neigh-replace", dev: "nosuchdev", ip: "198.18.0.5", mac: "02:aa:00:00:00:05" },
          ],
          { independent: true },
        ),
      ).rejects.toThrow(/op 2 of 2 .*Cannot find device "nosuchdev"/);
      expect((await dp.neighbours(host)).map((n) => n.ip).sort()).toEqual(["198.18.0.2", "198.18.0.4"]);
    });

    test("an independent apply of many entries writes them all, in order, and removes them", async () => {
      await wireVxlan();
      const n = 100; // 300 ops: several datagrams for a driver that batches
      const ip = (i: number) => `198.18.${1 + (i >> 8)}.${i & 0xff}`;
      const mac = (i: number) =>
        `02:bb:00:00:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
      const dst = (i: number) => `10.${100 + (i >> 8)}.${i & 0xff}.0/26`;
      const adds: KernelOp[] = [];
      const dels: KernelOp[] = [];
      for (let i = 0; i < n; i++) {
        adds.push({ op: "neigh-replace", dev: "tartan.vxlan", ip: ip(i), mac: mac(i) });
        adds.push({ op: "fdb-replace", dev: "tartan.vxlan", mac: mac(i), dst: ip(i) });
        // The route after its neighbour: onlink through the device, in the same apply.
        adds.push({
          op: "route-add",
          dst: dst(i),
          family: 4,
          via: ip(i),
          dev: "tartan.vxlan",
          onlink: true,
          proto: 201,
        });
        dels.push({ op: "route-del", dst: dst(i), family: 4, via: ip(i), dev: "tartan.vxlan", proto: 201 });
        dels.push({ op: "neigh-del", dev: "tartan.vxlan", ip: ip(i) });
        dels.push({ op: "fdb-del", dev: "tartan.vxlan", mac: mac(i), dst: ip(i) });
      }
      await dp.apply(host, adds, { independent: true });
      const ours = (await dp.routes(host, 4)).filter((r) => r.proto === 201);
      expect(ours.map((r) => r.dst).sort()).toEqual(
        adds.flatMap((o) => (o.op === "route-add" ? [o.dst] : [])).sort(),
      );
      expect((await dp.neighbours(host)).length).toBe(n);
      expect((await dp.fdb(host, "tartan.vxlan")).length).toBe(n);
      await dp.apply(host, dels, { independent: true });
      expect((await dp.routes(host, 4)).filter((r) => r.proto === 201)).toEqual([]);
      expect(await dp.neighbours(host)).toEqual([]);
      expect(await dp.fdb(host, "tartan.vxlan")).toEqual([]);
    });

    test("onlink routes through a VXLAN device: IPv4 next hop off-subnet, IPv6 link-local next hop", async () => {
      await wireVxlan();
      await dp.apply(host, [
        { op: "neigh-replace", dev: "tartan.vxlan", ip: "198.19.7.2", mac: "02:aa:00:00:00:02" },
        { op: "neigh-replace", dev: "tartan.vxlan", ip: "fe80::aa:ff:fe00:2", mac: "02:aa:00:00:00:02" },
        {
          op: "route-add",
          dst: "10.244.2.0/26",
          family: 4,
          via: "198.19.7.2",
          dev: "tartan.vxlan",
          onlink: true,
          proto: 201,
        },
        {
          op: "route-add",
          dst: "fd00:244::80/122",
          family: 6,
          via: "fe80::aa:ff:fe00:2",
          dev: "tartan.vxlan",
          onlink: true,
          proto: 201,
        },
      ]);
      expect((await dp.routes(host, 4)).find((r) => r.dst === "10.244.2.0/26")).toEqual({
        dst: "10.244.2.0/26",
        family: 4,
        dev: "tartan.vxlan",
        via: "198.19.7.2",
        scope: "global",
        proto: 201,
        table: 254,
        onlink: true,
      });
      expect((await dp.routes(host, 6)).find((r) => r.dst === "fd00:244::80/122")).toEqual({
        dst: "fd00:244::80/122",
        family: 6,
        dev: "tartan.vxlan",
        via: "fe80::aa:ff:fe00:2",
        scope: "global",
        proto: 201,
        metric: 1024,
        table: 254,
        onlink: true,
      });
      // Without onlink the off-subnet next hop is refused; our own address is refused even with it.
      await expect(
        dp.apply(host, [
          { op: "route-add", dst: "10.244.3.0/26", family: 4, via: "198.19.7.3", dev: "tartan.vxlan" },
        ]),
      ).rejects.toThrow(/invalid gateway/);
      await expect(
        dp.apply(host, [
          {
            op: "route-add",
            dst: "10.244.3.0/26",
            family: 4,
            via: "198.18.0.1",
            dev: "tartan.vxlan",
            onlink: true,
          },
        ]),
      ).rejects.toThrow(/invalid gateway/);
      // A plain route (no onlink) replaces the onlink one under the same key.
      await dp.apply(host, [
        { op: "route-add", dst: "10.244.2.0/26", family: 4, via: "198.18.0.2", proto: 201, replace: true },
      ]);
      expect((await dp.routes(host, 4)).find((r) => r.dst === "10.244.2.0/26")).toEqual({
        dst: "10.244.2.0/26",
        family: 4,
        dev: "ul0",
        via: "198.18.0.2",
        scope: "global",
        proto: 201,
        table: 254,
      });
      await dp.apply(host, [{ op: "link-del", name: "tartan.vxlan" }]);
      expect((await dp.routes(host, 6)).some((r) => r.dst === "fd00:244::80/122")).toBe(false);
      expect(await dp.neighbours(host)).toEqual([]);
    });

    test("blackhole routes: read back with type and no dev (v4 and v6), clash with unicast, delete by type", async () => {
      await dp.apply(host, [
        { op: "route-add", dst: "10.244.1.0/26", family: 4, type: "blackhole", proto: 201 },
        { op: "route-add", dst: "fd00:244::/122", family: 6, type: "blackhole", proto: 201 },
      ]);
      expect(await dp.routes(host, 4)).toEqual([
        { dst: "10.244.1.0/26", family: 4, scope: "global", proto: 201, table: 254, type: "blackhole" },
      ]);
      expect(await dp.routes(host, 6)).toEqual([
        {
          dst: "fd00:244::/122",
          family: 6,
          scope: "global",
          proto: 201,
          metric: 1024,
          table: 254,
          type: "blackhole",
        },
      ]);
      await dp.apply(host, [
        { op: "route-add", dst: "10.244.1.0/26", family: 4, type: "blackhole", proto: 201, replace: true },
      ]);
      expect(await dp.routes(host, 4)).toHaveLength(1);
      await dp.apply(host, [
        { op: "bridge-add", name: "br-u" },
        { op: "link-set", name: "br-u", up: true },
      ]);
      await expect(
        dp.apply(host, [{ op: "route-add", dst: "10.244.1.0/26", family: 4, dev: "br-u", proto: 201 }]),
      ).rejects.toThrow(/File exists/);
      await dp.apply(host, [
        { op: "route-del", dst: "10.244.1.0/26", family: 4, type: "blackhole", proto: 201 },
        { op: "route-del", dst: "fd00:244::/122", family: 6, type: "blackhole", proto: 201 },
      ]);
      expect(await dp.routes(host, 4)).toEqual([]);
      expect(await dp.routes(host, 6)).toEqual([]);
    });

    test("netnsExists tells namespaces from missing paths", async () => {
      expect(await dp.netnsExists(ctr)).toBe(true);
      expect(await dp.netnsExists(fx.missing)).toBe(false);
    });
  });
}
