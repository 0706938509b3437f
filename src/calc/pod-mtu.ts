import type { RoutingBackend } from "./routing-backend.ts";

/**
 * Bytes VXLAN adds to every packet: outer Ethernet 14 + outer IP (20 for IPv4, 40 for IPv6) +
 * UDP 8 + VXLAN 8. The inner frame must fit the underlay MTU with them.
 */
export const VXLAN_OVERHEAD = { 4: 50, 6: 70 } as const;

/**
 * The MTU pods (and the VXLAN device) get on a node: the underlay MTU, less the VXLAN overhead
 * when any peer may be reached through VXLAN. cross-subnet counts as VXLAN because a pod does
 * not know which peer its traffic goes to; a lower MTU everywhere beats fragmenting or black
 * holing large packets towards some nodes.
 */
export function podMtu(underlayMtu: number, backend: RoutingBackend, underlayFamily: 4 | 6 = 4): number {
  return backend === "host-gw" ? underlayMtu : underlayMtu - VXLAN_OVERHEAD[underlayFamily];
}
