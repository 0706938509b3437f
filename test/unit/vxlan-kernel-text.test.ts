// How the Linux driver renders and reads the multi-node additions (VXLAN device, FDB, onlink and
// blackhole routes); samples from iproute2 6.1 on kernel 6.x.
import { describe, expect, test } from "bun:test";
import { bridgeBatchLine } from "../../src/dataplane/linux/bridge-batch-line.ts";
import { ipBatchOpLines } from "../../src/dataplane/linux/ip-batch-lines.ts";
import { parseBridgeFdb } from "../../src/dataplane/linux/parse-bridge-fdb.ts";
import { parseIpLinks } from "../../src/dataplane/linux/parse-ip-links.ts";
import { parseIpRoutes } from "../../src/dataplane/linux/parse-ip-routes.ts";
import { toolBatches } from "../../src/dataplane/linux/tool-batches.ts";

describe("rendering", () => {
  test("vxlan-add: learning off unless asked, local and underlay dev", () => {
    expect(
      ipBatchOpLines({
        op: "vxlan-add",
        name: "tartan.vxlan",
        vni: 4096,
        dstport: 4789,
        local: "198.18.0.1",
        dev: "eth0",
        mtu: 1450,
        mac: "02:AA:00:00:00:01",
      }),
    ).toEqual([
      "link add tartan.vxlan mtu 1450 address 02:aa:00:00:00:01 type vxlan id 4096 local 198.18.0.1 dev eth0 dstport 4789 nolearning",
    ]);
  });

  test("onlink and blackhole routes", () => {
    expect(
      ipBatchOpLines({
        op: "route-add",
        dst: "fd00::80/122",
        family: 6,
        via: "FE80::AA:FF:FE00:2",
        dev: "tartan.vxlan",
        onlink: true,
        proto: 201,
        replace: true,
      }),
    ).toEqual(["route replace fd00::80/122 via fe80::aa:ff:fe00:2 dev tartan.vxlan onlink proto 201"]);
    expect(
      ipBatchOpLines({ op: "route-add", dst: "10.244.1.0/26", family: 4, type: "blackhole", proto: 201 }),
    ).toEqual(["route add blackhole 10.244.1.0/26 proto 201"]);
    expect(
      ipBatchOpLines({ op: "route-del", dst: "10.244.1.0/26", family: 4, type: "blackhole", proto: 201 }),
    ).toEqual(["route del blackhole 10.244.1.0/26 proto 201"]);
    expect(() =>
      ipBatchOpLines({ op: "route-add", dst: "10.244.1.0/26", family: 4, type: "blackhole", dev: "eth0" }),
    ).toThrow(/blackhole route takes no dev/);
    expect(() =>
      ipBatchOpLines({ op: "route-add", dst: "10.244.1.0/26", family: 4, via: "10.0.0.1", onlink: true }),
    ).toThrow(/onlink needs dev and via/);
  });

  test("FDB lines are bridge commands; a line cannot be smuggled through a field", () => {
    expect(
      bridgeBatchLine({
        op: "fdb-replace",
        dev: "tartan.vxlan",
        mac: "02:AA:00:00:00:02",
        dst: "198.18.0.2",
      }),
    ).toBe("fdb replace 02:aa:00:00:00:02 dev tartan.vxlan dst 198.18.0.2 self permanent");
    expect(
      bridgeBatchLine({ op: "fdb-del", dev: "tartan.vxlan", mac: "02:aa:00:00:00:02", dst: "fd18::2" }),
    ).toBe("fdb del 02:aa:00:00:00:02 dev tartan.vxlan dst fd18::2 self");
    expect(() =>
      bridgeBatchLine({
        op: "fdb-del",
        dev: "tartan.vxlan",
        mac: "02:aa:00:00:00:02\nfdb flush",
        dst: "1.2.3.4",
      }),
    ).toThrow(/not a MAC/);
    expect(() =>
      ipBatchOpLines({ op: "fdb-del", dev: "x", mac: "02:aa:00:00:00:02", dst: "1.2.3.4" }),
    ).toThrow(/bridge command/);
  });

  test("ops split into ip and bridge runs in order, with op indexes of the whole apply", () => {
    const batches = toolBatches([
      { op: "link-set", name: "tartan.vxlan", up: true },
      { op: "fdb-replace", dev: "tartan.vxlan", mac: "02:aa:00:00:00:02", dst: "198.18.0.2" },
      { op: "fdb-replace", dev: "tartan.vxlan", mac: "02:aa:00:00:00:03", dst: "198.18.0.3" },
      { op: "route-add", dst: "10.1.0.0/24", family: 4, dev: "tartan.vxlan" },
    ]);
    expect(batches.map((b) => [b.tool, b.opIndex])).toEqual([
      ["ip", [0]],
      ["bridge", [1, 2]],
      ["ip", [3]],
    ]);
  });
});

describe("reading", () => {
  test("vxlan link attributes", () => {
    const json = JSON.stringify([
      {
        ifindex: 3,
        ifname: "tartan.vxlan",
        flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
        mtu: 1450,
        address: "02:aa:00:00:00:01",
        linkinfo: {
          info_kind: "vxlan",
          info_data: { id: 4096, local: "198.18.0.1", link: "ul0", port: 4789, learning: false },
        },
      },
    ]);
    expect(parseIpLinks(json)[0]?.vxlan).toEqual({
      vni: 4096,
      dstport: 4789,
      local: "198.18.0.1",
      dev: "ul0",
      learning: false,
    });
  });

  test("routes: blackhole (numeric type with -N, dev lo on IPv6 dropped), onlink flag, other types skipped", () => {
    const v4 = JSON.stringify([
      { type: "6", dst: "10.244.1.0/26", protocol: "201", flags: [] },
      {
        dst: "10.244.2.0/26",
        gateway: "198.18.0.2",
        dev: "tartan.vxlan",
        protocol: "201",
        flags: ["onlink"],
      },
      { type: "7", dst: "10.9.0.0/24", protocol: "4", flags: [] },
    ]);
    expect(parseIpRoutes(v4, 4)).toEqual([
      { dst: "10.244.1.0/26", family: 4, scope: "global", proto: 201, table: 254, type: "blackhole" },
      {
        dst: "10.244.2.0/26",
        family: 4,
        dev: "tartan.vxlan",
        via: "198.18.0.2",
        scope: "global",
        proto: 201,
        table: 254,
        onlink: true,
      },
    ]);
    const v6 = JSON.stringify([
      { type: "blackhole", dst: "fd00::/122", dev: "lo", protocol: "201", metric: 1024, flags: [] },
    ]);
    expect(parseIpRoutes(v6, 6)).toEqual([
      {
        dst: "fd00::/122",
        family: 6,
        scope: "global",
        proto: 201,
        metric: 1024,
        table: 254,
        type: "blackhole",
      },
    ]);
  });

  test("fdb: permanent entries with a remote only", () => {
    const json = JSON.stringify([
      { mac: "02:AA:00:00:00:02", dst: "198.18.0.3", flags: ["self"], state: "permanent" },
      { mac: "02:aa:00:00:00:04", dst: "198.18.0.4", flags: ["self"], state: "" },
      { mac: "33:33:00:00:00:01", flags: ["self"], state: "permanent" },
    ]);
    expect(parseBridgeFdb(json, "tartan.vxlan")).toEqual([
      { dev: "tartan.vxlan", mac: "02:aa:00:00:00:02", dst: "198.18.0.3" },
    ]);
  });
});
