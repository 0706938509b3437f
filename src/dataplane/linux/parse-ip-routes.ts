import { formatCidr, parseIpOrCidr } from "../../model/cidr.ts";
import { formatIp, parseIp } from "../../model/ip.ts";
import type { RouteInfo } from "../kernel-op.ts";

interface IpJsonRoute {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  table?: string;
}

// With -N, ip prints numbers; accept the names too so a missing -N does not break reads.
const SCOPE_BY_TEXT: Record<string, RouteInfo["scope"]> = {
  "0": "global",
  global: "global",
  universe: "global",
  "253": "link",
  link: "link",
  "254": "host",
  host: "host",
};
const PROTO_BY_NAME: Record<string, number> = { redirect: 1, kernel: 2, boot: 3, static: 4 };
const RTPROT_BOOT = 3;
const MAIN_TABLE = 254;

/**
 * Parses `ip -N -j route show table main` for one family: unicast routes only (no local,
 * broadcast or multicast ones), without the kernel's IPv6 fe80::/64 link-local routes.
 */
export function parseIpRoutes(json: string, family: 4 | 6): RouteInfo[] {
  const rows = JSON.parse(json.trim() || "[]") as IpJsonRoute[];
  const out: RouteInfo[] = [];
  for (const r of rows) {
    if (r.type !== undefined && r.type !== "unicast") continue;
    const dst = r.dst === "default" ? "default" : formatCidr(parseIpOrCidr(r.dst));
    if (family === 6 && dst === "fe80::/64") continue;
    // ip leaves the protocol out when it is "boot", the default of `ip route add`.
    const protoText = r.protocol ?? String(RTPROT_BOOT);
    const route: RouteInfo = {
      dst,
      family,
      scope: SCOPE_BY_TEXT[r.scope ?? "0"] ?? "global",
      proto: PROTO_BY_NAME[protoText] ?? Number(protoText),
      table: r.table === undefined || r.table === "main" ? MAIN_TABLE : Number(r.table),
    };
    if (r.dev !== undefined) route.dev = r.dev;
    if (r.gateway !== undefined) route.via = formatIp(parseIp(r.gateway));
    if (r.metric !== undefined && r.metric !== 0) route.metric = r.metric;
    out.push(route);
  }
  return out;
}
