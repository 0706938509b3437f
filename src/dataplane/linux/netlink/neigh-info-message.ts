import { nlAttrValue as val } from "./nl-attr-value.ts";
import { nlAttrs } from "./nl-attrs.ts";
import { RTNL } from "./rtnl.ts";

/** The fields of an RTM_NEWNEIGH message (neighbour or, with family AF_BRIDGE, FDB entry) tartan reads. */
export interface ParsedNeigh {
  family: number;
  index: number;
  state: number;
  /** NDA_DST as canonical text: the neighbour's address, or an FDB entry's remote VTEP. */
  dst?: string;
  /** NDA_LLADDR, lower case. */
  mac?: string;
}

export function parseNeighMessage(msg: DataView): ParsedNeigh {
  const h = RTNL.NLMSG_HDRLEN;
  const a = nlAttrs(msg, h + 12, msg.getUint32(0, true));
  const out: ParsedNeigh = {
    family: msg.getUint8(h),
    index: msg.getInt32(h + 4, true),
    state: msg.getUint16(h + 8, true),
  };
  const dst = a.get(RTNL.NDA_DST);
  if (dst && (dst.byteLength === 4 || dst.byteLength === 16)) out.dst = val.ip(dst);
  const mac = a.get(RTNL.NDA_LLADDR);
  if (mac) out.mac = val.mac(mac);
  return out;
}
