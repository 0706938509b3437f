import type { LinkInfo } from "../../kernel-op.ts";
import { nlAttrValue as val } from "./nl-attr-value.ts";
import { nlAttrs } from "./nl-attrs.ts";
import { RTNL } from "./rtnl.ts";

/** A link read from RTM_NEWLINK, with the indexes its master and VXLAN underlay still to be named. */
export interface ParsedLink {
  link: LinkInfo;
  masterIndex?: number;
  vxlanLinkIndex?: number;
}

/**
 * One RTM_NEWLINK message (a whole message, header included) as LinkInfo, read the way
 * parseIpLinks reads `ip -d -j link show`: admin state from IFF_UP, kind from IFLA_INFO_KIND (or
 * "loopback" by link type), hairpin for bridge ports, VXLAN attributes for VXLAN devices.
 */
export function parseLinkMessage(msg: DataView): ParsedLink {
  const h = RTNL.NLMSG_HDRLEN;
  const type = msg.getUint16(h + 2, true);
  const index = msg.getInt32(h + 4, true);
  const flags = msg.getUint32(h + 8, true);
  const a = nlAttrs(msg, h + 16, msg.getUint32(0, true));
  const info = a.get(RTNL.IFLA_LINKINFO);
  const li = info ? nlAttrs(info, 0) : undefined;
  const kindAttr = li?.get(RTNL.IFLA_INFO_KIND);
  const kind = kindAttr ? val.str(kindAttr) : type === RTNL.ARPHRD_LOOPBACK ? "loopback" : "";
  const mtu = a.get(RTNL.IFLA_MTU);
  const address = a.get(RTNL.IFLA_ADDRESS);
  const name = a.get(RTNL.IFLA_IFNAME);
  const out: ParsedLink = {
    link: {
      name: name ? val.str(name) : `if${index}`,
      index,
      kind,
      mtu: mtu ? val.u32(mtu) : 0,
      mac: address ? val.mac(address) : "",
      up: (flags & RTNL.IFF_UP) !== 0,
    },
  };
  const master = a.get(RTNL.IFLA_MASTER);
  if (master && val.u32(master) !== 0) out.masterIndex = val.u32(master);
  const slaveKind = li?.get(RTNL.IFLA_INFO_SLAVE_KIND);
  if (slaveKind && val.str(slaveKind) === "bridge") {
    const data = li?.get(RTNL.IFLA_INFO_SLAVE_DATA);
    const mode = data ? nlAttrs(data, 0).get(RTNL.IFLA_BRPORT_MODE) : undefined;
    out.link.hairpin = mode ? val.u8(mode) !== 0 : false;
  }
  const data = li?.get(RTNL.IFLA_INFO_DATA);
  if (kind === "vxlan" && data) {
    const vx = nlAttrs(data, 0);
    const id = vx.get(RTNL.IFLA_VXLAN_ID);
    if (id) {
      const port = vx.get(RTNL.IFLA_VXLAN_PORT);
      const learning = vx.get(RTNL.IFLA_VXLAN_LEARNING);
      out.link.vxlan = {
        vni: val.u32(id),
        dstport: port ? val.be16(port) : 0,
        learning: learning ? val.u8(learning) !== 0 : true,
      };
      // Unset addresses and links are left out, as ip prints them.
      const local = vx.get(RTNL.IFLA_VXLAN_LOCAL) ?? vx.get(RTNL.IFLA_VXLAN_LOCAL6);
      if (local && !val.zero(local)) out.link.vxlan.local = val.ip(local);
      const link = vx.get(RTNL.IFLA_VXLAN_LINK);
      if (link && val.u32(link) !== 0) out.vxlanLinkIndex = val.u32(link);
    }
  }
  return out;
}
