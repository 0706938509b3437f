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
  flags?: string[];
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

// RTN_UNICAST and RTN_BLACKHOLE, as -N prints them, and by name.
const UNICAST = new Set(["1", "unicast"]);
const BLACKHOLE = new Set(["6", "blackhole"]);

/**
 * Parses `ip -N -j route show table main` for one family: unicast and blackhole routes only (no
 * local, broadcast or multicast ones), without the kernel's IPv6 fe80::/64 link-local routes.
 */
export function parseIpRoutes(json: string, family: 4 | 6): RouteInfo[] {
  const rows = JSON.parse(json.trim() || "[]") as IpJsonRoute[];
  const out: RouteInfo[] = [];
  for (const r of rows) {
    const blackhole = r.type !== undefined && BLACKHOLE.has(r.type);
    if (r.type !== undefined && !UNICAST.has(r.type) && !blackhole) continue;
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
    if (blackhole) route.type = "blackhole";
    // The kernel shows IPv6 blackholes "dev lo"; that is an artefact, not a device of the route.
    if (r.dev !== undefined && !blackhole) route.dev = r.dev;
    if (r.flags?.includes("onlink")) route.onlink = true;
    if (r.gateway !== undefined) route.via = formatIp(parseIp(r.gateway));
    if (r.metric !== undefined && r.metric !== 0) route.metric = r.metric;
    out.push(route);
  }
  return out;
}
