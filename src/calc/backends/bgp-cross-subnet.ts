import { contains } from "../../model/cidr.ts";
import type { RoutingBackend } from "./backend.ts";
import { VXLAN_OVERHEAD, vxlanRoute } from "./vxlan.ts";

/**
 * Calico's BGP with `vxlanMode: CrossSubnet` (decision 0017): peers on the local underlay subnet
 * are reached by BIRD's BGP routes (its kernel export takes only routes whose BGP next hop is on
 * this subnet), the others through VXLAN routes tartan installs. BGP sessions run to every node
 * either way, so the routers of each subnet (a ToR peer) learn every block. IPv6 blocks of a
 * same-subnet peer go through VXLAN too unless both nodes have an IPv6 next hop for BGP.
 */
export const bgpCrossSubnetBackend: RoutingBackend = {
  name: "bgp-cross-subnet",
  usesVxlan: true,
  mtuOverhead: (family) => VXLAN_OVERHEAD[family],
  // IPv6 blocks go through BIRD only when both ends publish an IPv6 next hop; else VXLAN.
  peerRoute: (local, peer, block) =>
    contains(local.subnet, peer.address) && (block.family === 4 || (local.bgpIpv6 && peer.bgpIpv6))
      ? undefined
      : vxlanRoute(local, peer, block),
};
