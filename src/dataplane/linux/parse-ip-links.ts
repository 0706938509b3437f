import { formatIp, parseIp } from "../../model/ip.ts";
import type { LinkInfo } from "../kernel-op.ts";

interface IpJsonLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu: number;
  address?: string;
  link_type?: string;
  master?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: {
      id?: number;
      local?: string;
      local6?: string;
      link?: string;
      port?: number;
      learning?: boolean;
    };
    info_slave_kind?: string;
    info_slave_data?: { hairpin?: boolean };
  };
}

/** Parses `ip -d -j link show` output into LinkInfo. */
export function parseIpLinks(json: string): LinkInfo[] {
  const rows = JSON.parse(json.trim() || "[]") as IpJsonLink[];
  return rows.map((r) => {
    const link: LinkInfo = {
      name: r.ifname,
      index: r.ifindex,
      kind: r.linkinfo?.info_kind ?? (r.link_type === "loopback" ? "loopback" : ""),
      mtu: r.mtu,
      mac: (r.address ?? "").toLowerCase(),
      // Admin state (flag UP), not operstate: a veth whose peer is down is still "up" for us.
      up: r.flags?.includes("UP") ?? false,
    };
    if (r.master !== undefined) link.master = r.master;
    if (r.linkinfo?.info_slave_kind === "bridge") link.hairpin = r.linkinfo.info_slave_data?.hairpin ?? false;
    const vx = r.linkinfo?.info_data;
    if (link.kind === "vxlan" && vx?.id !== undefined) {
      link.vxlan = { vni: vx.id, dstport: vx.port ?? 0, learning: vx.learning ?? true };
      const local = vx.local ?? vx.local6;
      if (local !== undefined) link.vxlan.local = formatIp(parseIp(local));
      if (vx.link !== undefined) link.vxlan.dev = vx.link;
    }
    return link;
  });
}
