/**
 * How a node reaches the pod blocks of the others: `vxlan` encapsulates everything (works over
 * any routed underlay), `host-gw` routes blocks straight to the peer's underlay address (needs
 * the peers on the same L2 subnet, no overhead), `cross-subnet` is host-gw inside the local
 * underlay subnet and vxlan across subnets (Calico's CrossSubnet, Flannel's DirectRouting).
 */
export type RoutingBackend = "vxlan" | "host-gw" | "cross-subnet";
