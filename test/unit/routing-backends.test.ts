// Every routing backend through the registry: its name, its MTU overhead, and the desired state
// it gives for one block of a peer on the local underlay subnet and one of a peer across it.
import { describe, expect, test } from "bun:test";
import { parseAgentConfig } from "../../src/agent/agent-config.ts";
import type { LocalNode, Peer, PeerRoute } from "../../src/calc/backends/backend.ts";
import { routingBackend } from "../../src/calc/backends/registry.ts";
import { podMtu } from "../../src/calc/pod-mtu.ts";
import type { RoutingProblem } from "../../src/calc/routing-problem.ts";
import { nodeNetConf } from "../../src/lab/node-netconf.ts";
import { parseCidr } from "../../src/model/cidr.ts";
import { parseIp } from "../../src/model/ip.ts";
import { ROUTING_BACKENDS, type RoutingBackendName } from "../../src/model/routing-backend.ts";

const MAC_A = "02:aa:00:00:00:01";
const MAC_B = "02:aa:00:00:00:02";
const MAC_C = "02:aa:00:00:00:03";

const local = (vxlan: boolean): LocalNode => ({
  name: "a",
  address: parseIp("198.18.0.1"),
  subnet: parseCidr("198.18.0.0/24"),
  underlayInterface: "eth0",
  macOwner: new Map([
    [MAC_A, "a"],
    [MAC_B, "b"],
    [MAC_C, "c"],
  ]),
  ...(vxlan ? { vxlan: { device: "tartan.vxlan", mac: MAC_A } } : {}),
});
const near: Peer = { name: "b", address: parseIp("198.18.0.2"), mac: MAC_B };
const far: Peer = { name: "c", address: parseIp("198.18.1.3"), mac: MAC_C };
const v4 = { dst: "10.244.2.0/26", family: 4 as const };
const v6 = { dst: "fd00:244::40/122", family: 6 as const };

const direct = (via: string): PeerRoute => ({
  route: { dst: v4.dst, family: 4, type: "unicast", via, dev: "eth0" },
});
const tunnel = (dst: string, family: 4 | 6, via: string, mac: string, underlay: string): PeerRoute => ({
  route: { dst, family, type: "unicast", via, dev: "tartan.vxlan", onlink: true },
  neighbour: { ip: via, mac },
  fdb: { mac, dst: underlay },
});
const code = (r: PeerRoute | RoutingProblem | undefined) => (r && "code" in r ? r.code : r);

describe("routing backends through the registry", () => {
  test("every declared name has its backend, named alike", () => {
    for (const name of ROUTING_BACKENDS) expect(routingBackend(name).name).toBe(name);
  });

  test("MTU overhead: VXLAN's outer headers where any peer may be tunnelled, nothing for host-gw", () => {
    const overhead = (n: RoutingBackendName) => [4, 6].map((f) => routingBackend(n).mtuOverhead(f as 4 | 6));
    expect(overhead("vxlan")).toEqual([50, 70]);
    expect(overhead("cross-subnet")).toEqual([50, 70]);
    expect(overhead("host-gw")).toEqual([0, 0]);
    for (const n of ROUTING_BACKENDS)
      expect(podMtu(1500, n, 6)).toBe(1500 - routingBackend(n).mtuOverhead(6));
  });

  test("the lab's pod MTU is the agent's calculation over its 1500-byte underlay", () => {
    for (const backend of ROUTING_BACKENDS) {
      const conf = nodeNetConf({ network: "n", backend, nodeIndex: 1, nodeDir: "/x", withAgent: true });
      expect(conf.mtu).toBe(podMtu(1500, backend));
    }
  });

  test("vxlan: every peer through the device, with its neighbour and FDB entry", () => {
    const b = routingBackend("vxlan");
    expect(b.usesVxlan).toBe(true);
    expect(b.peerRoute(local(true), near, v4)).toEqual(tunnel(v4.dst, 4, "198.18.0.2", MAC_B, "198.18.0.2"));
    expect(b.peerRoute(local(true), far, v4)).toEqual(tunnel(v4.dst, 4, "198.18.1.3", MAC_C, "198.18.1.3"));
    // IPv6 blocks: the next hop is the link-local address the peer's device derives from its MAC.
    expect(b.peerRoute(local(true), near, v6)).toEqual(
      tunnel(v6.dst, 6, "fe80::aa:ff:fe00:2", MAC_B, "198.18.0.2"),
    );
    expect(code(b.peerRoute(local(true), { name: "b", address: near.address }, v4))).toBe("peer-no-vtep-mac");
    expect(code(b.peerRoute(local(true), { ...far, mac: MAC_B }, v4))).toBe("duplicate-vtep-mac");
    // No usable device here: reported once for the node, not per block.
    expect(b.peerRoute(local(false), near, v4)).toBeUndefined();
  });

  test("host-gw: peers on the subnet via their underlay address; the others refused", () => {
    const b = routingBackend("host-gw");
    expect(b.usesVxlan).toBe(false);
    expect(b.peerRoute(local(false), near, v4)).toEqual(direct("198.18.0.2"));
    expect(code(b.peerRoute(local(false), far, v4))).toBe("peer-not-on-subnet");
    expect(code(b.peerRoute(local(false), near, v6))).toBe("underlay-family");
  });

  test("cross-subnet: host-gw on the subnet, vxlan across it", () => {
    const b = routingBackend("cross-subnet");
    expect(b.usesVxlan).toBe(true);
    expect(b.peerRoute(local(true), near, v4)).toEqual(direct("198.18.0.2"));
    expect(b.peerRoute(local(true), far, v4)).toEqual(tunnel(v4.dst, 4, "198.18.1.3", MAC_C, "198.18.1.3"));
  });

  test("bgp: BIRD routes every remote block, tartan none; no overhead", () => {
    const b = routingBackend("bgp");
    expect(b.usesVxlan).toBe(false);
    expect([4, 6].map((f) => b.mtuOverhead(f as 4 | 6))).toEqual([0, 0]);
    for (const p of [near, far])
      for (const blk of [v4, v6]) expect(b.peerRoute(local(false), p, blk)).toBeUndefined();
  });

  test("bgp-cross-subnet: BIRD on the subnet (IPv6 only with next hops on both ends), vxlan across it", () => {
    const b = routingBackend("bgp-cross-subnet");
    expect(b.usesVxlan).toBe(true);
    expect(b.mtuOverhead(4)).toBe(50);
    expect(b.peerRoute(local(true), near, v4)).toBeUndefined();
    expect(b.peerRoute(local(true), far, v4)).toEqual(tunnel(v4.dst, 4, "198.18.1.3", MAC_C, "198.18.1.3"));
    const v6tunnel = tunnel(v6.dst, 6, "fe80::aa:ff:fe00:2", MAC_B, "198.18.0.2");
    expect(b.peerRoute(local(true), near, v6)).toEqual(v6tunnel);
    expect(b.peerRoute({ ...local(true), bgpIpv6: true }, { ...near, bgpIpv6: true }, v6)).toBeUndefined();
    expect(b.peerRoute({ ...local(true), bgpIpv6: true }, near, v6)).toEqual(v6tunnel);
  });

  test("the agent config accepts exactly the declared names, vxlan by default", () => {
    const cfg = (backend?: string) =>
      parseAgentConfig(
        JSON.stringify({
          nodeName: "n",
          datastore: { type: "local", path: "/x" },
          underlayInterface: "eth0",
          ...(backend ? { backend } : {}),
        }),
      ).backend;
    expect(cfg()).toBe("vxlan");
    for (const n of ROUTING_BACKENDS) expect(cfg(n)).toBe(n);
    expect(() => cfg("udp")).toThrow(/backend/);
  });
});
