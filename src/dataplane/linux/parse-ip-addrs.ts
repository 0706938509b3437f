import { formatCidr, parseCidr } from "../../model/cidr.ts";
import type { AddrInfo } from "../kernel-op.ts";

interface IpJsonAddrLink {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}

const SCOPES: Record<string, AddrInfo["scope"]> = { global: "global", link: "link", host: "host" };

/** Parses `ip -j addr show`; IPv6 link-local (fe80::/10) addresses are left out, the kernel makes those. */
export function parseIpAddrs(json: string): AddrInfo[] {
  const rows = JSON.parse(json.trim() || "[]") as IpJsonAddrLink[];
  const out: AddrInfo[] = [];
  for (const link of rows) {
    for (const a of link.addr_info ?? []) {
      if (a.family !== "inet" && a.family !== "inet6") continue;
      const family = a.family === "inet" ? 4 : 6;
      if (family === 6 && /^fe[89ab]/i.test(a.local)) continue;
      out.push({
        dev: link.ifname,
        cidr: formatCidr(parseCidr(`${a.local}/${a.prefixlen}`)),
        family,
        scope: SCOPES[a.scope ?? "global"] ?? "global",
      });
    }
  }
  return out;
}
