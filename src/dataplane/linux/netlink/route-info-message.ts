import { formatCidr, parseIpOrCidr } from "../../../model/cidr.ts";
import type { RouteInfo } from "../../kernel-op.ts";
import { nlAttrValue as val } from "./nl-attr-value.ts";
import { nlAttrs } from "./nl-attrs.ts";
import { RTNL } from "./rtnl.ts";

const SCOPES: Record<number, RouteInfo["scope"]> = {
  [RTNL.RT_SCOPE_UNIVERSE]: "global",
  [RTNL.RT_SCOPE_LINK]: "link",
  [RTNL.RT_SCOPE_HOST]: "host",
};

/**
 * One RTM_NEWROUTE message as RouteInfo plus its output link's index (named by the caller), or
 * undefined for what parseIpRoutes leaves out: other tables than main, other types than unicast
 * and blackhole, and the kernel's IPv6 fe80::/64. Multipath next hops are not read (as there).
 */
export function parseRouteMessage(msg: DataView): { oif?: number; route: RouteInfo } | undefined {
  const h = RTNL.NLMSG_HDRLEN;
  const family = msg.getUint8(h) === RTNL.AF_INET ? 4 : 6;
  const dstLen = msg.getUint8(h + 1);
  const type = msg.getUint8(h + 7);
  const a = nlAttrs(msg, h + 12, msg.getUint32(0, true));
  const tableAttr = a.get(RTNL.RTA_TABLE);
  const table = tableAttr ? val.u32(tableAttr) : msg.getUint8(h + 4);
  if (table !== RTNL.RT_TABLE_MAIN) return undefined;
  const blackhole = type === RTNL.RTN_BLACKHOLE;
  if (type !== RTNL.RTN_UNICAST && !blackhole) return undefined;
  const dstAttr = a.get(RTNL.RTA_DST);
  const dst =
    dstLen === 0 || !dstAttr ? "default" : formatCidr(parseIpOrCidr(`${val.ip(dstAttr)}/${dstLen}`));
  if (family === 6 && dst === "fe80::/64") return undefined;
  const route: RouteInfo = {
    dst,
    family,
    scope: SCOPES[msg.getUint8(h + 6)] ?? "global",
    proto: msg.getUint8(h + 5),
    table,
  };
  if (blackhole) route.type = "blackhole";
  if ((msg.getUint32(h + 8, true) & RTNL.RTNH_F_ONLINK) !== 0) route.onlink = true;
  const gw = a.get(RTNL.RTA_GATEWAY);
  if (gw) route.via = val.ip(gw);
  const prio = a.get(RTNL.RTA_PRIORITY);
  if (prio && val.u32(prio) !== 0) route.metric = val.u32(prio);
  const oif = a.get(RTNL.RTA_OIF);
  // The kernel shows IPv6 blackholes on lo; that is an artefact, not a device of the route.
  return oif && !blackhole ? { oif: val.u32(oif), route } : { route };
}
