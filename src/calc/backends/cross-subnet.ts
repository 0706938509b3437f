import { contains } from "../../model/cidr.ts";
import type { RoutingBackend } from "./backend.ts";
import { directRoute } from "./host-gw.ts";
import { VXLAN_OVERHEAD, vxlanRoute } from "./vxlan.ts";

/**
 * Calico's CrossSubnet, flannel's DirectRouting: host-gw for peers on the local underlay subnet,
 * VXLAN for the others. Its MTU overhead is VXLAN's, since a pod cannot tell which way its
 * traffic goes; a lower MTU everywhere beats fragmenting or black-holing large packets.
 */
export const crossSubnetBackend: RoutingBackend = {
  name: "cross-subnet",
  usesVxlan: true,
  mtuOverhead: (family) => VXLAN_OVERHEAD[family],
  peerRoute: (local, peer, block) =>
    contains(local.subnet, peer.address) ? directRoute(local, peer, block) : vxlanRoute(local, peer, block),
};
