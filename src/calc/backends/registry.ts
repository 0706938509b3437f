import type { RoutingBackendName } from "../../model/routing-backend.ts";
import type { RoutingBackend } from "./backend.ts";
import { bgpBackend } from "./bgp.ts";
import { bgpCrossSubnetBackend } from "./bgp-cross-subnet.ts";
import { crossSubnetBackend } from "./cross-subnet.ts";
import { hostGwBackend } from "./host-gw.ts";
import { vxlanBackend } from "./vxlan.ts";

/**
 * Every routing backend, by the name the agent config and the lab use. Keyed by the model's
 * list of names (ROUTING_BACKENDS), so a name without a backend, or a backend without a name,
 * does not compile. Adding a backend: its file in this folder, its name in
 * model/routing-backend.ts, its line here.
 */
const BACKENDS: { readonly [N in RoutingBackendName]: RoutingBackend } = {
  vxlan: vxlanBackend,
  "host-gw": hostGwBackend,
  "cross-subnet": crossSubnetBackend,
  bgp: bgpBackend,
  "bgp-cross-subnet": bgpCrossSubnetBackend,
};

export function routingBackend(name: RoutingBackendName): RoutingBackend {
  return BACKENDS[name];
}
