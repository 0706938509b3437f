import { parseIpOrCidr } from "../../../model/cidr.ts";
import { parseIp } from "../../../model/ip.ts";
import type { KernelOp } from "../../kernel-op.ts";
import { ipBytes } from "./ip-bytes.ts";
import { NlMessage } from "./nl-message.ts";
import type { OpContext } from "./op-context.ts";
import { RTNL } from "./rtnl.ts";

type RouteOp = Extract<KernelOp, { op: "route-add" | "route-del" }>;

const SCOPES = { global: RTNL.RT_SCOPE_UNIVERSE, link: RTNL.RT_SCOPE_LINK, host: RTNL.RT_SCOPE_HOST };

/**
 * The rtmsg scope iproute2 picks when none is given: IPv6 ignores scopes; an IPv4 unicast route
 * without a gateway is scope link; a delete matches any scope ("nowhere").
 */
function defaultScope(op: RouteOp): number {
  if (op.op === "route-add" && op.scope !== undefined) return SCOPES[op.scope];
  if (op.family === 6) return RTNL.RT_SCOPE_UNIVERSE;
  if (op.op === "route-del") return RTNL.RT_SCOPE_NOWHERE;
  if (op.type !== "blackhole" && op.via === undefined) return RTNL.RT_SCOPE_LINK;
  return RTNL.RT_SCOPE_UNIVERSE;
}

/** RTM_NEWROUTE / RTM_DELROUTE with the fields `ip route add|replace|append|del` would send. */
export function routeMessage(op: RouteOp, ctx: OpContext): NlMessage {
  const add = op.op === "route-add";
  const flags =
    RTNL.NLM_F_REQUEST |
    RTNL.NLM_F_ACK |
    (add
      ? RTNL.NLM_F_CREATE |
        (op.replace ? RTNL.NLM_F_REPLACE : op.append ? RTNL.NLM_F_APPEND : RTNL.NLM_F_EXCL)
      : 0);
  const oif = op.dev !== undefined ? ctx.dev(op.dev) : undefined;
  const dst = op.dst === "default" ? undefined : parseIpOrCidr(op.dst);
  const table = op.table ?? RTNL.RT_TABLE_MAIN;
  const type = op.type === "blackhole" ? RTNL.RTN_BLACKHOLE : add ? RTNL.RTN_UNICAST : RTNL.RTN_UNSPEC;
  const m = new NlMessage(add ? RTNL.RTM_NEWROUTE : RTNL.RTM_DELROUTE, flags).header(12, (v) => {
    v.setUint8(0, op.family === 4 ? RTNL.AF_INET : RTNL.AF_INET6);
    v.setUint8(1, dst?.prefix ?? 0);
    // Tables above 255 do not fit the header byte and go in RTA_TABLE.
    v.setUint8(4, table < 256 ? table : RTNL.RT_TABLE_UNSPEC);
    v.setUint8(5, op.proto ?? (add ? RTNL.RTPROT_BOOT : RTNL.RTPROT_UNSPEC));
    v.setUint8(6, defaultScope(op));
    v.setUint8(7, type);
    v.setUint32(8, add && op.onlink ? RTNL.RTNH_F_ONLINK : 0, true);
  });
  if (table >= 256) m.u32(RTNL.RTA_TABLE, table);
  if (dst) m.bytes(RTNL.RTA_DST, ipBytes(dst.ip));
  if (op.via !== undefined) m.bytes(RTNL.RTA_GATEWAY, ipBytes(parseIp(op.via)));
  if (oif !== undefined) m.u32(RTNL.RTA_OIF, oif);
  if (add) {
    if (op.src !== undefined) m.bytes(RTNL.RTA_PREFSRC, ipBytes(parseIp(op.src)));
    if (op.metric !== undefined) m.u32(RTNL.RTA_PRIORITY, op.metric);
    if (op.mtu !== undefined) m.begin(RTNL.RTA_METRICS).u32(RTNL.RTAX_MTU, op.mtu).end();
  }
  return m;
}
