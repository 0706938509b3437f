import type { Cidr } from "../../model/cidr.ts";
import type { Ip } from "../../model/ip.ts";
import type { RoutingBackendName } from "../../model/routing-backend.ts";
import type { DesiredFdb, DesiredNeighbour, DesiredRoute } from "../desired-kernel-state.ts";
import type { RoutingProblem } from "../routing-problem.ts";

/** What a backend knows of the local node when it routes one remote block. */
export interface LocalNode {
  name: string;
  address: Ip;
  /** The underlay subnet the local address lives in (host-gw reaches only peers inside it). */
  subnet: Cidr;
  /** The underlay link: direct routes leave through it. */
  underlayInterface: string;
  /** The VXLAN device and this node's VTEP MAC; undefined when VXLAN is not usable here. */
  vxlan?: { device: string; mac: string };
  /** Which node each VTEP MAC belongs to (the first by name): later claimants are refused. */
  macOwner: ReadonlyMap<string, string>;
  /** The node publishes an IPv6 BGP next hop (Node spec.bgp.ipv6Address): BIRD can route its IPv6 blocks. */
  bgpIpv6?: boolean;
}

/** A peer node as calc parsed it: its underlay address and, when valid, its VTEP MAC. */
export interface Peer {
  name: string;
  address: Ip;
  mac?: string;
  /** The peer publishes an IPv6 BGP next hop (Node spec.bgp.ipv6Address). */
  bgpIpv6?: boolean;
}

/** One block of a peer: its canonical CIDR text and family. */
export interface RemoteBlock {
  dst: string;
  family: 4 | 6;
}

/** How this node reaches one remote block: a route, plus the entries its next hop needs. */
export interface PeerRoute {
  route: DesiredRoute;
  neighbour?: DesiredNeighbour;
  fdb?: DesiredFdb;
}

/**
 * A routing backend: how a node reaches the pod blocks of the others (flannel's backends are
 * the model, decision 0010). Pure: it returns desired state, the KernelReconciler writes it. What
 * every backend shares (local blocks become blackholes, peers are parsed and sorted, blocks of
 * unknown nodes are reported, the VXLAN device is built) stays in calcNodeRouting; a backend says
 * only what differs between them.
 */
export interface RoutingBackend {
  readonly name: RoutingBackendName;
  /** Whether the node needs the VXLAN device (with its neighbour and FDB entries). */
  readonly usesVxlan: boolean;
  /**
   * Bytes the backend may take from each pod packet (encapsulation), by underlay family: the pod
   * MTU is the underlay MTU less this. The worst case over all peers, because a pod does not
   * know which peer its traffic goes to.
   */
  mtuOverhead(underlayFamily: 4 | 6): number;
  /**
   * The route to one block of one peer, or the problem that keeps it unrouted (a peer is refused,
   * never half-routed), or undefined when the reason was already reported once for the node or
   * when BIRD routes the block (the bgp backends).
   */
  peerRoute(local: LocalNode, peer: Peer, block: RemoteBlock): PeerRoute | RoutingProblem | undefined;
}

/** Whether a backend's answer is a problem rather than a route. */
export const isProblem = (r: PeerRoute | RoutingProblem): r is RoutingProblem => "code" in r;
