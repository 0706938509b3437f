export type RoutingProblemCode =
  | "peer-not-on-subnet" // host-gw: the peer is not on the local underlay subnet
  | "peer-no-vtep-mac" // vxlan: the peer has not published its VTEP MAC yet
  | "local-no-vtep-mac" // vxlan: this node has no VTEP MAC, so no VXLAN at all
  | "duplicate-vtep-mac" // two nodes claim the same VTEP MAC: the FDB cannot tell them apart
  | "underlay-family" // the block's or the peer's address family cannot be carried
  | "invalid-node" // the peer's underlay address or subnet does not parse
  | "invalid-block" // the block's CIDR does not parse
  | "block-owner-unknown"; // the block names a node that does not exist (deleted?)

/** Why a peer or block got no route; the agent reports these in its status. */
export interface RoutingProblem {
  code: RoutingProblemCode;
  node: string;
  block?: string;
  message: string;
}
