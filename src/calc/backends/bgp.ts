import type { RoutingBackend } from "./backend.ts";

/**
 * BGP through BIRD (decision 0017): BIRD learns every peer's blocks over BGP and installs them
 * (proto bird); tartan's reconciler keeps only the local blackholes, so no remote block gets a
 * tartan route. Plain IP, no encapsulation, no overhead.
 */
export const bgpBackend: RoutingBackend = {
  name: "bgp",
  usesVxlan: false,
  mtuOverhead: () => 0,
  peerRoute: () => undefined,
};
