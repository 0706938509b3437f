import type { Dataplane } from "../dataplane/dataplane.ts";
import type { NodeBGPSpec } from "../model/bgp-resources.ts";
import type { AgentConfig } from "./agent-config.ts";

/**
 * What this node publishes as its Node's spec.bgp: the config's AS and cluster ID, and the IPv6
 * next hop of its IPv6 blocks (the config's, else the first global IPv6 address of the underlay
 * interface found at start; a node without one exchanges IPv4 only).
 */
export async function nodeBgpSpec(
  config: AgentConfig,
  dp: Dataplane,
  underlayInterface: string,
): Promise<NodeBGPSpec> {
  const b = config.bgp;
  let ipv6 = b.ipv6Address;
  if (ipv6 === undefined) {
    const a = (await dp.addrs(null, underlayInterface)).find((x) => x.family === 6 && x.scope === "global");
    ipv6 = a?.cidr.split("/")[0];
  }
  return {
    ...(b.asNumber !== undefined ? { asNumber: b.asNumber } : {}),
    ...(b.routeReflectorClusterID !== undefined
      ? { routeReflectorClusterID: b.routeReflectorClusterID }
      : {}),
    ...(ipv6 !== undefined ? { ipv6Address: ipv6 } : {}),
  };
}
