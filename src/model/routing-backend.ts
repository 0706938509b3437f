/**
 * How a node reaches the pod blocks of the others: `vxlan` encapsulates everything (works over
 * any routed underlay), `host-gw` routes blocks straight to the peer's underlay address (needs
 * the peers on the same L2 subnet, no overhead), `cross-subnet` is host-gw inside the local
 * underlay subnet and vxlan across subnets (Calico's CrossSubnet, Flannel's DirectRouting).
 * `bgp`: BIRD advertises each node's blocks and installs the others' (decision 0017);
 * `bgp-cross-subnet`: BIRD's routes to peers on the local subnet, VXLAN to the others.
 *
 * Declared once here and reused by the agent config, the lab state and the CLI: a new backend
 * is one more name in this list plus its implementation (docs/architecture.md).
 */
export const ROUTING_BACKENDS = ["vxlan", "host-gw", "cross-subnet", "bgp", "bgp-cross-subnet"] as const;

export type RoutingBackendName = (typeof ROUTING_BACKENDS)[number];

export const DEFAULT_ROUTING_BACKEND: RoutingBackendName = "vxlan";

export function isRoutingBackend(name: string): name is RoutingBackendName {
  return (ROUTING_BACKENDS as readonly string[]).includes(name);
}

/** The backends whose routes BIRD installs: the agent runs the BGP manager for them. */
export const isBgpBackend = (name: RoutingBackendName): boolean =>
  name === "bgp" || name === "bgp-cross-subnet";
