import { describe, expect, test } from "bun:test";
import { eui64LinkLocal } from "../../src/calc/eui64-link-local.ts";
import { calcNodeRouting, type NodeRoutingInput } from "../../src/calc/node-routing.ts";
import { podMtu } from "../../src/calc/pod-mtu.ts";
import type { NodeResource } from "../../src/model/cluster-resources.ts";
import type { RoutingBackendName } from "../../src/model/routing-backend.ts";
import { clusterNode, ipamBlock } from "../harness/cluster-objects.ts";

function node(name: string, underlayAddress: string, underlaySubnet: string, vtepMac?: string): NodeResource {
  return clusterNode(name, {
    underlayAddress,
    underlaySubnet,
    ...(vtepMac === undefined ? {} : { vtepMac }),
  });
}

const block = (cidr: string, nodeName: string) => ipamBlock(cidr, nodeName, cidr.includes(":") ? "v6" : "v4");

const MAC_A = "02:aa:00:00:00:01";
const MAC_B = "02:aa:00:00:00:02";
const MAC_C = "02:aa:00:00:00:03";
const NODES = [
  node("a", "198.18.0.1", "198.18.0.0/24", MAC_A),
  node("b", "198.18.0.2", "198.18.0.0/24", MAC_B),
  node("c", "198.18.1.3", "198.18.1.0/24", MAC_C),
];
const BLOCKS = [
  block("10.244.1.0/26", "a"),
  block("fd00:244::/122", "a"),
  block("10.244.2.0/26", "b"),
  block("10.244.2.64/26", "b"),
  block("fd00:244::40/122", "b"),
  block("10.244.3.0/26", "c"),
  block("fd00:244::80/122", "c"),
];

function input(backend: RoutingBackendName, over: Partial<NodeRoutingInput> = {}): NodeRoutingInput {
  return {
    localNode: "a",
    nodes: NODES,
    blocks: BLOCKS,
    backend,
    underlay: { interface: "eth0", mtu: 1500 },
    ...over,
  };
}

const VXLAN_A = {
  name: "tartan.vxlan",
  vni: 4096,
  dstport: 4789,
  local: "198.18.0.1",
  dev: "eth0",
  mtu: 1450,
  mac: MAC_A,
};
const LOCAL_BLACKHOLES = [
  { dst: "10.244.1.0/26", family: 4, type: "blackhole" },
  { dst: "fd00:244::/122", family: 6, type: "blackhole" },
] as const;
const vx = (dst: string, family: 4 | 6, via: string) => ({
  dst,
  family,
  type: "unicast" as const,
  via,
  dev: "tartan.vxlan",
  onlink: true,
});
const gw = (dst: string, via: string) => ({
  dst,
  family: 4 as const,
  type: "unicast" as const,
  via,
  dev: "eth0",
});

describe("eui64LinkLocal", () => {
  test("flips the U/L bit and inserts ff:fe", () => {
    expect(eui64LinkLocal("02:aa:00:00:00:02")).toBe("fe80::aa:ff:fe00:2");
    expect(eui64LinkLocal("00:11:22:33:44:55")).toBe("fe80::211:22ff:fe33:4455");
    expect(eui64LinkLocal("EE:EE:EE:EE:EE:EE")).toBe("fe80::ecee:eeff:feee:eeee");
    expect(() => eui64LinkLocal("02:aa:00:00:00")).toThrow(/not a MAC/);
  });
});

describe("podMtu", () => {
  test("VXLAN costs 50 bytes over IPv4, 70 over IPv6; host-gw nothing; cross-subnet counts as VXLAN", () => {
    expect(podMtu(1500, "vxlan")).toBe(1450);
    expect(podMtu(1500, "vxlan", 6)).toBe(1430);
    expect(podMtu(9000, "host-gw")).toBe(9000);
    expect(podMtu(1500, "cross-subnet")).toBe(1450);
  });
});

describe("calcNodeRouting", () => {
  test("vxlan: every remote block onlink through the device; neighbours and FDB per peer; local blackholes", () => {
    const { state, problems } = calcNodeRouting(input("vxlan"));
    expect(problems).toEqual([]);
    expect(state).toEqual({
      vxlan: VXLAN_A,
      routes: [
        LOCAL_BLACKHOLES[0],
        vx("10.244.2.0/26", 4, "198.18.0.2"),
        vx("10.244.2.64/26", 4, "198.18.0.2"),
        vx("10.244.3.0/26", 4, "198.18.1.3"),
        LOCAL_BLACKHOLES[1],
        vx("fd00:244::40/122", 6, "fe80::aa:ff:fe00:2"),
        vx("fd00:244::80/122", 6, "fe80::aa:ff:fe00:3"),
      ],
      neighbours: [
        { ip: "198.18.0.2", mac: MAC_B },
        { ip: "198.18.1.3", mac: MAC_C },
        { ip: "fe80::aa:ff:fe00:2", mac: MAC_B },
        { ip: "fe80::aa:ff:fe00:3", mac: MAC_C },
      ],
      fdb: [
        { mac: MAC_B, dst: "198.18.0.2" },
        { mac: MAC_C, dst: "198.18.1.3" },
      ],
    });
  });

  test("host-gw: direct routes on the underlay device; off-subnet peers and IPv6 blocks over an IPv4 underlay are refused", () => {
    const { state, problems } = calcNodeRouting(input("host-gw"));
    expect(state).toEqual({
      routes: [
        LOCAL_BLACKHOLES[0],
        gw("10.244.2.0/26", "198.18.0.2"),
        gw("10.244.2.64/26", "198.18.0.2"),
        LOCAL_BLACKHOLES[1],
      ],
      neighbours: [],
      fdb: [],
    });
    expect(problems.map((p) => [p.code, p.node, p.block])).toEqual([
      ["underlay-family", "b", "fd00:244::40/122"],
      ["peer-not-on-subnet", "c", undefined],
    ]);
    expect(problems[1]?.message).toMatch(/198\.18\.1\.3.*198\.18\.0\.0\/24.*cross-subnet or vxlan/);
  });

  test("cross-subnet: host-gw inside the local subnet, vxlan across", () => {
    const { state, problems } = calcNodeRouting(input("cross-subnet"));
    expect(state).toEqual({
      vxlan: VXLAN_A,
      routes: [
        LOCAL_BLACKHOLES[0],
        gw("10.244.2.0/26", "198.18.0.2"),
        gw("10.244.2.64/26", "198.18.0.2"),
        vx("10.244.3.0/26", 4, "198.18.1.3"),
        LOCAL_BLACKHOLES[1],
        vx("fd00:244::80/122", 6, "fe80::aa:ff:fe00:3"),
      ],
      neighbours: [
        { ip: "198.18.1.3", mac: MAC_C },
        { ip: "fe80::aa:ff:fe00:3", mac: MAC_C },
      ],
      fdb: [{ mac: MAC_C, dst: "198.18.1.3" }],
    });
    expect(problems.map((p) => p.code)).toEqual(["underlay-family"]);
  });

  test("a deleted node disappears: its blocks are no longer routed (leftover blocks are reported)", () => {
    const withoutC = calcNodeRouting(input("vxlan", { nodes: NODES.slice(0, 2) }));
    expect(withoutC.state.routes.map((r) => r.dst)).not.toContain("10.244.3.0/26");
    expect(withoutC.state.fdb).toEqual([{ mac: MAC_B, dst: "198.18.0.2" }]);
    expect(withoutC.state.neighbours.map((n) => n.ip)).toEqual(["198.18.0.2", "fe80::aa:ff:fe00:2"]);
    expect(withoutC.problems.map((p) => [p.code, p.block])).toEqual([
      ["block-owner-unknown", "10.244.3.0/26"],
      ["block-owner-unknown", "fd00:244::80/122"],
    ]);
    const gone = calcNodeRouting(
      input("vxlan", { nodes: NODES.slice(0, 2), blocks: BLOCKS.filter((b) => b.spec.node !== "c") }),
    );
    expect(gone.problems).toEqual([]);
    expect(gone.state).toEqual(withoutC.state);
  });

  test("only the local node, or no blocks at all: blackholes only, the VXLAN device stays", () => {
    const alone = calcNodeRouting(input("vxlan", { nodes: NODES.slice(0, 1) }));
    expect(alone.state.vxlan).toEqual(VXLAN_A);
    const lonely = calcNodeRouting(input("vxlan", { nodes: NODES.slice(0, 1), blocks: [] }));
    expect(lonely.state).toEqual({ vxlan: VXLAN_A, routes: [], neighbours: [], fdb: [] });
  });

  test("VXLAN needs MACs: a peer without one or with another's is refused; without a local one there is no device", () => {
    const nodes = [
      NODES[0]!,
      node("b", "198.18.0.2", "198.18.0.0/24"),
      node("c", "198.18.1.3", "198.18.1.0/24", MAC_A.toUpperCase()),
    ];
    const r = calcNodeRouting(input("vxlan", { nodes }));
    expect(r.problems.map((p) => [p.code, p.node])).toEqual([
      ["peer-no-vtep-mac", "b"],
      ["duplicate-vtep-mac", "c"],
    ]);
    expect(r.state.routes.filter((x) => x.type === "unicast")).toEqual([]);
    const noLocal = calcNodeRouting(
      input("cross-subnet", { nodes: [node("a", "198.18.0.1", "198.18.0.0/24"), ...NODES.slice(1)] }),
    );
    expect(noLocal.state.vxlan).toBeUndefined();
    expect(noLocal.state.fdb).toEqual([]);
    expect(noLocal.problems.map((p) => p.code)).toEqual(["local-no-vtep-mac", "underlay-family"]);
    // host-gw peers still work without any MAC
    expect(noLocal.state.routes.map((x) => x.dst)).toContain("10.244.2.0/26");
  });

  test("an IPv6 underlay: VXLAN MTU -70, IPv4 blocks refused, IPv6 blocks via link-local next hops", () => {
    const nodes = [node("a", "fd18::1", "fd18::/64", MAC_A), node("b", "fd18::2", "fd18::/64", MAC_B)];
    const blocks = BLOCKS.filter((b) => b.spec.node !== "c");
    const r = calcNodeRouting(input("vxlan", { nodes, blocks, underlay: { interface: "eth0", mtu: 9000 } }));
    expect(r.state.vxlan?.mtu).toBe(8930);
    expect(r.state.vxlan?.local).toBe("fd18::1");
    expect(r.state.fdb).toEqual([{ mac: MAC_B, dst: "fd18::2" }]);
    expect(r.state.routes.filter((x) => x.type === "unicast")).toEqual([
      vx("fd00:244::40/122", 6, "fe80::aa:ff:fe00:2"),
    ]);
    expect(r.problems.map((p) => [p.code, p.block])).toEqual([
      ["underlay-family", "10.244.2.0/26"],
      ["underlay-family", "10.244.2.64/26"],
    ]);
  });

  test("bad data is refused per object; a missing or malformed local node throws", () => {
    const r = calcNodeRouting(
      input("vxlan", {
        nodes: [...NODES, node("d", "not-an-ip", "198.18.0.0/24", "02:aa:00:00:00:04")],
        blocks: [...BLOCKS, block("10.244.9.0/99", "b"), block("10.244.4.0/26", "d")],
      }),
    );
    expect(r.problems.map((p) => p.code).sort()).toEqual(["invalid-block", "invalid-node"]);
    expect(() => calcNodeRouting(input("vxlan", { localNode: "zz" }))).toThrow(
      /node zz is not in the datastore/,
    );
    expect(() =>
      calcNodeRouting(input("vxlan", { nodes: [node("a", "198.18.5.1", "198.18.0.0/24", MAC_A)] })),
    ).toThrow(/not inside 198\.18\.0\.0\/24/);
  });

  test("input order does not matter; VNI, port and device name are configurable", () => {
    const r1 = calcNodeRouting(input("cross-subnet"));
    const r2 = calcNodeRouting(
      input("cross-subnet", { nodes: [...NODES].reverse(), blocks: [...BLOCKS].reverse() }),
    );
    expect(r2).toEqual(r1);
    const custom = calcNodeRouting(input("vxlan", { vxlan: { vni: 1, port: 8472, device: "vx-test" } }));
    expect(custom.state.vxlan).toMatchObject({ name: "vx-test", vni: 1, dstport: 8472 });
    expect(custom.state.routes.find((x) => x.dst === "10.244.3.0/26")?.dev).toBe("vx-test");
  });
});
