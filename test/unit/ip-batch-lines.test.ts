import { describe, expect, test } from "bun:test";
import { ipBatchLines, ipBatchOpLines } from "../../src/dataplane/linux/ip-batch-lines.ts";
import { ipTarget } from "../../src/dataplane/linux/ip-target.ts";

describe("ipBatchOpLines", () => {
  test("veth with the peer in another namespace, MTU and MACs on both ends", () => {
    expect(
      ipBatchOpLines({
        op: "veth-add",
        name: "tt0a1b2c3d4e5",
        peer: "eth0",
        peerNetns: "/proc/42/ns/net",
        mtu: 1450,
        mac: "0A:58:00:00:00:01",
        peerMac: "0a:58:00:00:00:02",
      }),
    ).toEqual([
      "link add tt0a1b2c3d4e5 mtu 1450 address 0a:58:00:00:00:01 type veth peer name eth0 mtu 1450 address 0a:58:00:00:00:02 netns /proc/42/ns/net",
    ]);
  });

  test("bridge", () => {
    expect(ipBatchOpLines({ op: "bridge-add", name: "tartan0", mtu: 1500 })).toEqual([
      "link add tartan0 mtu 1500 type bridge",
    ]);
  });

  test("link-set: master first, then hairpin (needs the new master), then up", () => {
    expect(
      ipBatchOpLines({ op: "link-set", name: "tt1", master: "tartan0", hairpin: true, up: true, mtu: 1400 }),
    ).toEqual([
      "link set dev tt1 mtu 1400 master tartan0",
      "link set dev tt1 type bridge_slave hairpin on",
      "link set dev tt1 up",
    ]);
    expect(ipBatchOpLines({ op: "link-set", name: "tt1", master: null, up: false })).toEqual([
      "link set dev tt1 nomaster",
      "link set dev tt1 down",
    ]);
  });

  test("addresses: canonical text, IPv4 broadcast, IPv6 nodad, replace", () => {
    expect(ipBatchOpLines({ op: "addr-add", dev: "eth0", cidr: "10.1.0.5/24" })).toEqual([
      "addr add 10.1.0.5/24 broadcast + dev eth0",
    ]);
    expect(ipBatchOpLines({ op: "addr-add", dev: "eth0", cidr: "10.1.0.5/32", replace: true })).toEqual([
      "addr replace 10.1.0.5/32 dev eth0",
    ]);
    expect(ipBatchOpLines({ op: "addr-add", dev: "eth0", cidr: "FD00:0:0::5/64", nodad: true })).toEqual([
      "addr add fd00::5/64 dev eth0 nodad",
    ]);
    expect(ipBatchOpLines({ op: "addr-del", dev: "eth0", cidr: "fd00::5/64" })).toEqual([
      "addr del fd00::5/64 dev eth0",
    ]);
  });

  test("routes: every option; default spelled per family because a batch line cannot say -6", () => {
    expect(
      ipBatchOpLines({
        op: "route-add",
        dst: "10.2.0.0/16",
        family: 4,
        via: "10.1.0.1",
        dev: "eth0",
        src: "10.1.0.5",
        proto: 201,
        scope: "global",
        metric: 10,
        table: 100,
        mtu: 1400,
      }),
    ).toEqual([
      "route add 10.2.0.0/16 via 10.1.0.1 dev eth0 src 10.1.0.5 proto 201 scope global metric 10 table 100 mtu 1400",
    ]);
    expect(
      ipBatchOpLines({
        op: "route-add",
        dst: "default",
        family: 6,
        via: "fe80::1",
        dev: "eth0",
        replace: true,
      }),
    ).toEqual(["route replace ::/0 via fe80::1 dev eth0"]);
    expect(
      ipBatchOpLines({ op: "route-add", dst: "169.254.1.1", family: 4, dev: "eth0", scope: "link" }),
    ).toEqual(["route add 169.254.1.1/32 dev eth0 scope link"]);
    expect(ipBatchOpLines({ op: "route-del", dst: "default", family: 4, proto: 201, table: 7 })).toEqual([
      "route del 0.0.0.0/0 proto 201 table 7",
    ]);
  });

  test("refuses anything that could break out of its batch line or that the kernel would refuse", () => {
    expect(() => ipBatchOpLines({ op: "link-del", name: "x\nlink del eth0" })).toThrow(/not a link name/);
    expect(() => ipBatchOpLines({ op: "link-del", name: "sixteen-chars-xx" })).toThrow(/not a link name/);
    expect(() => ipBatchOpLines({ op: "addr-add", dev: "eth0", cidr: "10.0.0.1" })).toThrow(/prefix/);
    expect(() => ipBatchOpLines({ op: "route-add", dst: "fd00::/64", family: 4, dev: "eth0" })).toThrow(
      /not IPv4/,
    );
    expect(() => ipBatchOpLines({ op: "route-add", dst: "default", family: 4, via: "fd00::1" })).toThrow(
      /not IPv4/,
    );
    expect(() => ipBatchOpLines({ op: "route-add", dst: "default", family: 4 })).toThrow(/dev or via/);
    expect(() =>
      ipBatchOpLines({ op: "veth-add", name: "a", peer: "b", mtu: 1500, peerNetns: "relative path" }),
    ).toThrow(/absolute path/);
    expect(() => ipBatchOpLines({ op: "bridge-add", name: "b", mtu: 20 })).toThrow(/mtu/);
  });
});

describe("ipBatchLines", () => {
  test("maps every line back to the op it came from", () => {
    const batch = ipBatchLines([
      { op: "bridge-add", name: "tartan0" },
      { op: "link-set", name: "tt1", master: "tartan0", hairpin: true },
      { op: "link-del", name: "old" },
    ]);
    expect(batch.lines).toHaveLength(4);
    expect(batch.opIndex).toEqual([0, 1, 1, 2]);
  });
});

describe("ipTarget", () => {
  test("null runs in place, /run/netns/NAME uses ip -n, other paths go through nsenter", () => {
    expect(ipTarget(null)).toEqual({ ipArgs: [] });
    expect(ipTarget("/run/netns/tt-t-1")).toEqual({ ipArgs: ["-n", "tt-t-1"] });
    expect(ipTarget("/proc/42/ns/net")).toEqual({ ipArgs: [], nsenter: "/proc/42/ns/net" });
    expect(ipTarget("/var/run/netns/cni-1")).toEqual({ ipArgs: [], nsenter: "/var/run/netns/cni-1" });
  });
});
