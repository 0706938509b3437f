import { formatCidr, parseCidr } from "../../../model/cidr.ts";
import type { AddrInfo } from "../../kernel-op.ts";
import { nlAttrValue as val } from "./nl-attr-value.ts";
import { nlAttrs } from "./nl-attrs.ts";
import { RTNL } from "./rtnl.ts";

const SCOPES: Record<number, AddrInfo["scope"]> = {
  [RTNL.RT_SCOPE_UNIVERSE]: "global",
  [RTNL.RT_SCOPE_LINK]: "link",
  [RTNL.RT_SCOPE_HOST]: "host",
};

/**
 * One RTM_NEWADDR message as AddrInfo plus its link's index (named by the caller), or undefined
 * for what parseIpAddrs leaves out: other families and IPv6 link-local addresses.
 */
export function parseAddrMessage(msg: DataView): { index: number; addr: Omit<AddrInfo, "dev"> } | undefined {
  const h = RTNL.NLMSG_HDRLEN;
  const family = msg.getUint8(h);
  if (family !== RTNL.AF_INET && family !== RTNL.AF_INET6) return undefined;
  const prefix = msg.getUint8(h + 1);
  const scope = msg.getUint8(h + 3);
  const index = msg.getInt32(h + 4, true);
  const a = nlAttrs(msg, h + 8, msg.getUint32(0, true));
  // ip prints IFA_LOCAL when present (it differs from IFA_ADDRESS only on point-to-point links).
  const local = a.get(RTNL.IFA_LOCAL) ?? a.get(RTNL.IFA_ADDRESS);
  if (!local) return undefined;
  const ip = val.ip(local);
  if (family === RTNL.AF_INET6 && /^fe[89ab]/i.test(ip)) return undefined;
  return {
    index,
    addr: {
      cidr: formatCidr(parseCidr(`${ip}/${prefix}`)),
      family: family === RTNL.AF_INET ? 4 : 6,
      scope: SCOPES[scope] ?? "global",
    },
  };
}
