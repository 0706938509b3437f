import { formatIp } from "../../model/ip.ts";
import { eui64LinkLocal } from "../eui64-link-local.ts";
import type { RoutingProblem } from "../routing-problem.ts";
import type { LocalNode, Peer, PeerRoute, RemoteBlock, RoutingBackend } from "./backend.ts";

/**
 * Bytes VXLAN adds to every packet: outer Ethernet 14 + outer IP (20 for IPv4, 40 for IPv6) +
 * UDP 8 + VXLAN 8. The inner frame must fit the underlay MTU with them.
 */
export const VXLAN_OVERHEAD = { 4: 50, 6: 70 } as const;

/**
 * A route onlink through the VXLAN device to a next hop pinned by a permanent neighbour entry
 * (next hop → the peer's VTEP MAC) and a static FDB entry (VTEP MAC → the peer's underlay
 * address). Works over any routed underlay of the local node's family.
 */
export function vxlanRoute(
  local: LocalNode,
  peer: Peer,
  block: RemoteBlock,
): PeerRoute | RoutingProblem | undefined {
  if (!local.vxlan) return undefined; // reported once as local-no-vtep-mac
  const peerText = formatIp(peer.address);
  if (peer.mac === undefined) {
    return {
      code: "peer-no-vtep-mac",
      node: peer.name,
      message: `node ${peer.name} has not published a valid vtepMac yet`,
    };
  }
  const owner = local.macOwner.get(peer.mac);
  if (owner !== peer.name) {
    return {
      code: "duplicate-vtep-mac",
      node: peer.name,
      message: `node ${peer.name}'s vtepMac ${peer.mac} is already node ${owner}'s`,
    };
  }
  if (peer.address.family !== local.address.family) {
    return {
      code: "underlay-family",
      node: peer.name,
      message: `node ${peer.name}'s underlay address ${peerText} is not of this node's underlay family (IPv${local.address.family})`,
    };
  }
  // IPv4: the peer's underlay address (unique per peer, onlink on the VXLAN device). IPv6: the
  // link-local address the remote VXLAN device derives from its MAC.
  let via: string;
  if (block.family === 6) via = eui64LinkLocal(peer.mac);
  else if (peer.address.family === 4) via = peerText;
  else {
    return {
      code: "underlay-family",
      node: peer.name,
      block: block.dst,
      message: `block ${block.dst} is IPv4 but the underlay is IPv6: no IPv4 next hop for node ${peer.name}`,
    };
  }
  return {
    route: {
      dst: block.dst,
      family: block.family,
      type: "unicast",
      via,
      dev: local.vxlan.device,
      onlink: true,
    },
    neighbour: { ip: via, mac: peer.mac },
    fdb: { mac: peer.mac, dst: peerText },
  };
}

/** flannel's vxlan: every peer through the VXLAN device. */
export const vxlanBackend: RoutingBackend = {
  name: "vxlan",
  usesVxlan: true,
  mtuOverhead: (family) => VXLAN_OVERHEAD[family],
  peerRoute: vxlanRoute,
};
