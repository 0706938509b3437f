import type { RoutingBackendName } from "../model/routing-backend.ts";
import { routingBackend } from "./backends/registry.ts";

/**
 * The MTU pods get on a node: the underlay MTU less what the backend's encapsulation takes
 * (backends/: VXLAN's 50 bytes over IPv4, 70 over IPv6; nothing for host-gw). The agent's VXLAN
 * device and the lab's CNI configs use the same numbers.
 */
export function podMtu(underlayMtu: number, backend: RoutingBackendName, underlayFamily: 4 | 6 = 4): number {
  return underlayMtu - routingBackend(backend).mtuOverhead(underlayFamily);
}
