import { describe, expect, test } from "bun:test";
import { parseBatchFailure } from "../../src/dataplane/linux/parse-batch-failure.ts";
import { parseIpAddrs } from "../../src/dataplane/linux/parse-ip-addrs.ts";
import { parseIpLinks } from "../../src/dataplane/linux/parse-ip-links.ts";
import { parseIpRoutes } from "../../src/dataplane/linux/parse-ip-routes.ts";

// Samples trimmed from iproute2 6.1 output on kernel 6.x.
describe("ip -j parsers", () => {
  test("links: kind from linkinfo, admin UP flag, master and hairpin of bridge ports", () => {
    const json = JSON.stringify([
      {
        ifindex: 1,
        ifname: "lo",
        flags: ["LOOPBACK", "UP"],
        mtu: 65536,
        link_type: "loopback",
        address: "00:00:00:00:00:00",
      },
      {
        ifindex: 3,
        ifname: "vh0",
        flags: ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"],
        mtu: 1400,
        master: "tartan0",
        operstate: "DOWN",
        address: "BE:CD:59:14:8E:93",
        linkinfo: { info_kind: "veth", info_slave_kind: "bridge", info_slave_data: { hairpin: true } },
      },
    ]);
    expect(parseIpLinks(json)).toEqual([
      { name: "lo", index: 1, kind: "loopback", mtu: 65536, mac: "00:00:00:00:00:00", up: true },
      {
        name: "vh0",
        index: 3,
        kind: "veth",
        mtu: 1400,
        mac: "be:cd:59:14:8e:93",
        up: true,
        master: "tartan0",
        hairpin: true,
      },
    ]);
  });

  test("addrs: canonical CIDR, no IPv6 link-local", () => {
    const json = JSON.stringify([
      {
        ifname: "eth0",
        addr_info: [
          { family: "inet", local: "10.1.0.5", prefixlen: 24, scope: "global" },
          { family: "inet6", local: "fd00:0:0:0::5", prefixlen: 64, scope: "global" },
          { family: "inet6", local: "fe80::1", prefixlen: 64, scope: "link" },
        ],
      },
    ]);
    expect(parseIpAddrs(json)).toEqual([
      { dev: "eth0", cidr: "10.1.0.5/24", family: 4, scope: "global" },
      { dev: "eth0", cidr: "fd00::5/64", family: 6, scope: "global" },
    ]);
  });

  test("routes: numeric proto/scope (-N), boot when absent, host dst as /32, fe80::/64 and other types dropped, blackholes kept", () => {
    const v4 = JSON.stringify([
      { dst: "default", gateway: "169.254.1.1", dev: "eth0", flags: [] },
      { dst: "10.1.0.0/24", dev: "eth0", protocol: "2", scope: "253", prefsrc: "10.1.0.5", flags: [] },
      { dst: "169.254.1.1", dev: "eth0", scope: "253", flags: [] },
      { dst: "10.9.0.0/16", gateway: "10.1.0.7", dev: "eth0", protocol: "201", metric: 5, flags: [] },
      { type: "blackhole", dst: "10.8.0.0/16", flags: [] },
      { type: "unreachable", dst: "10.7.0.0/16", flags: [] },
    ]);
    expect(parseIpRoutes(v4, 4)).toEqual([
      { dst: "default", family: 4, dev: "eth0", via: "169.254.1.1", scope: "global", proto: 3, table: 254 },
      { dst: "10.1.0.0/24", family: 4, dev: "eth0", scope: "link", proto: 2, table: 254 },
      { dst: "169.254.1.1/32", family: 4, dev: "eth0", scope: "link", proto: 3, table: 254 },
      {
        dst: "10.9.0.0/16",
        family: 4,
        dev: "eth0",
        via: "10.1.0.7",
        scope: "global",
        proto: 201,
        metric: 5,
        table: 254,
      },
      { dst: "10.8.0.0/16", family: 4, scope: "global", proto: 3, table: 254, type: "blackhole" },
    ]);
    const v6 = JSON.stringify([
      { dst: "fe80::/64", dev: "eth0", protocol: "kernel", metric: 256, flags: [] },
      { dst: "fd00::/64", dev: "eth0", protocol: "kernel", metric: 256, flags: [] },
    ]);
    expect(parseIpRoutes(v6, 6)).toEqual([
      { dst: "fd00::/64", family: 6, dev: "eth0", scope: "global", proto: 2, metric: 256, table: 254 },
    ]);
  });

  test("batch failures: line number and the kernel's words", () => {
    expect(parseBatchFailure("RTNETLINK answers: File exists\nCommand failed -:10\n")).toEqual({
      line: 10,
      words: "File exists",
    });
    expect(parseBatchFailure("Error: Nexthop has invalid gateway.\nCommand failed -:1\n")).toEqual({
      line: 1,
      words: "Nexthop has invalid gateway",
    });
    expect(parseBatchFailure('Error: argument "/run/netns/x" is wrong: Invalid "netns" value\n\n')).toEqual({
      words: 'argument "/run/netns/x" is wrong: Invalid "netns" value',
    });
  });
});
