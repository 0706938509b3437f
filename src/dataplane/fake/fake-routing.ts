import { contains, formatNetwork, parseCidr, parseIpOrCidr } from "../../model/cidr.ts";
import { parseIp } from "../../model/ip.ts";
import type { AddrInfo } from "../kernel-op.ts";
import type { FakeNetnsState, FakeRoute } from "./fake-netns-state.ts";

export const MAIN_TABLE = 254;
export const RTPROT_KERNEL = 2;

/**
 * The prefix route the kernel adds for an address on an up link (proto kernel): IPv4 ones are
 * scope link, IPv6 ones carry metric 256.
 */
export function connectedRoute(addr: AddrInfo): FakeRoute | undefined {
  const c = parseCidr(addr.cidr);
  // IPv4 adds no route for a /32; IPv6 does add one for a /128 ("fd00::5 proto kernel metric 256").
  if ((addr.family === 4 && c.prefix === 32) || addr.scope === "host") return undefined;
  const route: FakeRoute = {
    dst: formatNetwork(c),
    family: addr.family,
    dev: addr.dev,
    scope: addr.family === 4 ? "link" : "global",
    proto: RTPROT_KERNEL,
    table: MAIN_TABLE,
  };
  if (addr.family === 6) route.metric = 256;
  return route;
}

function sameKey(a: FakeRoute, b: FakeRoute): boolean {
  return (
    a.family === b.family &&
    a.table === b.table &&
    a.dst === b.dst &&
    a.dev === b.dev &&
    a.metric === b.metric
  );
}

/** Adds the connected route of each address of the device that lacks one (link up, address add). */
export function addConnectedRoutes(ns: FakeNetnsState, dev: string): void {
  for (const a of ns.addrs) {
    if (a.dev !== dev) continue;
    const r = connectedRoute(a);
    if (r && !ns.routes.some((x) => sameKey(x, r))) ns.routes.push(r);
  }
}

/** Removes an address's connected route unless another address of the device still provides it. */
export function dropConnectedRoute(ns: FakeNetnsState, addr: AddrInfo): void {
  const r = connectedRoute(addr);
  if (!r) return;
  const stillProvided = ns.addrs.some((a) => {
    const o = connectedRoute(a);
    return o !== undefined && sameKey(o, r);
  });
  if (!stillProvided) ns.routes = ns.routes.filter((x) => !(sameKey(x, r) && x.proto === RTPROT_KERNEL));
}

function prefixOf(dst: string): number {
  return dst === "default" ? 0 : parseIpOrCidr(dst).prefix;
}

/**
 * The device through which a gateway is reachable on-link: the longest-prefix main-table route
 * without a gateway and with at least link scope (IPv4; any such route for IPv6) that contains
 * it, on `dev` when one is given. Undefined when the kernel would refuse the gateway.
 */
export function onLinkDevice(ns: FakeNetnsState, gw: string, dev: string | undefined): string | undefined {
  const ip = parseIp(gw);
  // The kernel refuses one of our own addresses as a gateway (its route is type local).
  if (ns.addrs.some((a) => parseCidr(a.cidr).ip.value === ip.value && a.family === ip.family))
    return undefined;
  let best: FakeRoute | undefined;
  for (const r of ns.routes) {
    if (r.table !== MAIN_TABLE || r.family !== ip.family || r.via !== undefined || r.dev === undefined)
      continue;
    if (dev !== undefined && r.dev !== dev) continue;
    if (ip.family === 4 && r.scope === "global") continue;
    const c =
      r.dst === "default" ? { ip: { family: ip.family, value: 0n }, prefix: 0 } : parseIpOrCidr(r.dst);
    if (!contains(c, ip)) continue;
    if (!best || prefixOf(r.dst) > prefixOf(best.dst)) best = r;
  }
  return best?.dev;
}

/** The key under which the kernel refuses a second route (EEXIST) and replace overwrites it. */
export function sameRouteKey(a: FakeRoute, b: FakeRoute): boolean {
  return (
    a.family === b.family && a.table === b.table && a.dst === b.dst && (a.metric ?? 0) === (b.metric ?? 0)
  );
}
