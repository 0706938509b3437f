import { CniCode, CniError } from "../errors/cni-error.ts";
import { parseCidr } from "../model/cidr.ts";
import type { CniResult, CniRoute } from "../model/cni-result.ts";
import { IP_BITS } from "../model/ip.ts";
import type { PodMode } from "../model/net-conf.ts";
import type { PodAddress, PodRoute } from "./pod-plan.ts";
import { ROUTED_GATEWAY_V4, ROUTED_GATEWAY_V6 } from "./routed-mode.ts";

export interface AddressPlan {
  addresses: PodAddress[];
  routes: PodRoute[];
  /** The routes as they go into the CNI result. */
  resultRoutes: CniRoute[];
}

const familyOf = (text: string): 4 | 6 => (text.includes(":") ? 6 : 4);

/**
 * Turns an IPAM result into the pod's addresses and routes for the mode: bridge mode keeps the
 * subnet prefix and routes via the range's gateway; routed mode uses host prefixes (/32, /128)
 * and routes via the link-local gateway, with a default route per family when IPAM gave none.
 */
export function planAddresses(ipam: CniResult, mode: PodMode): AddressPlan {
  const ips = ipam.ips ?? [];
  if (ips.length === 0) {
    throw new CniError(
      CniCode.invalidConfig,
      "IPAM returned no address",
      "",
      "check the ipam section of the network config",
    );
  }
  const addresses: PodAddress[] = ips.map((ip) => {
    const c = parseCidr(ip.address, "ips[].address");
    const family = c.ip.family;
    if (mode === "routed") {
      return {
        cidr: `${ip.address.split("/")[0]}/${IP_BITS[family]}`,
        family,
        gateway: family === 4 ? ROUTED_GATEWAY_V4 : ROUTED_GATEWAY_V6,
      };
    }
    return { cidr: ip.address, family, ...(ip.gateway ? { gateway: ip.gateway } : {}) };
  });
  const gatewayOf = (f: 4 | 6) => addresses.find((a) => a.family === f)?.gateway;
  const configured = ipam.routes ?? [];
  const routes: PodRoute[] = [];
  const resultRoutes: CniRoute[] = [];
  for (const r of configured) {
    const family = familyOf(r.dst);
    if (!addresses.some((a) => a.family === family)) continue; // no address of that family: skip
    const via = mode === "routed" ? gatewayOf(family) : (r.gw ?? gatewayOf(family));
    routes.push({ dst: r.dst, family, ...(via ? { via } : {}) });
    resultRoutes.push({ ...r, ...(via ? { gw: via } : {}) });
  }
  if (mode === "routed") {
    for (const f of [4, 6] as const) {
      if (!addresses.some((a) => a.family === f) || routes.some((r) => r.family === f)) continue;
      const dst = f === 4 ? "0.0.0.0/0" : "::/0";
      const via = gatewayOf(f)!;
      routes.push({ dst, family: f, via });
      resultRoutes.push({ dst, gw: via });
    }
  }
  return { addresses, routes, resultRoutes };
}
