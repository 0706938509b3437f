import { contains, formatNetwork } from "../../model/cidr.ts";
import { formatIp } from "../../model/ip.ts";
import type { RoutingProblem } from "../routing-problem.ts";
import type { LocalNode, Peer, PeerRoute, RemoteBlock, RoutingBackend } from "./backend.ts";

/**
 * A route straight to the peer's underlay address: no encapsulation, no overhead, but the peer
 * must be on the local underlay subnet (one L2 segment) and of the block's address family.
 */
export function directRoute(local: LocalNode, peer: Peer, block: RemoteBlock): PeerRoute | RoutingProblem {
  const peerText = formatIp(peer.address);
  if (!contains(local.subnet, peer.address)) {
    return {
      code: "peer-not-on-subnet",
      node: peer.name,
      message: `node ${peer.name} (${peerText}) is not on this node's underlay subnet ${formatNetwork(local.subnet)}: host-gw cannot route its blocks (use cross-subnet or vxlan)`,
    };
  }
  if (block.family !== peer.address.family) {
    return {
      code: "underlay-family",
      node: peer.name,
      block: block.dst,
      message: `block ${block.dst} is IPv${block.family} but node ${peer.name}'s underlay address ${peerText} is not: host-gw needs a next hop of the block's family`,
    };
  }
  return {
    route: {
      dst: block.dst,
      family: block.family,
      type: "unicast",
      via: peerText,
      dev: local.underlayInterface,
    },
  };
}

/** flannel's host-gw: every peer's blocks routed via its underlay address. */
export const hostGwBackend: RoutingBackend = {
  name: "host-gw",
  usesVxlan: false,
  mtuOverhead: () => 0,
  peerRoute: directRoute,
};
