import { parseIp } from "../../../model/ip.ts";
import type { KernelOp } from "../../kernel-op.ts";
import { ipBytes } from "./ip-bytes.ts";
import { macBytes } from "./mac-bytes.ts";
import { NlMessage } from "./nl-message.ts";
import type { OpContext } from "./op-context.ts";
import { RTNL } from "./rtnl.ts";

type VxlanOp = Extract<KernelOp, { op: "vxlan-add" }>;

/**
 * `ip link add NAME [mtu M] [address MAC] type vxlan id VNI [local IP] [dev DEV] dstport P
 * (no)learning` as one RTM_NEWLINK. The underlay is looked up first, as iproute2 resolves `dev`
 * while parsing, so a missing one fails before anything is created.
 */
export function vxlanMessage(op: VxlanOp, ctx: OpContext): NlMessage {
  const link = op.dev !== undefined ? ctx.dev(op.dev) : undefined;
  const m = new NlMessage(
    RTNL.RTM_NEWLINK,
    RTNL.NLM_F_REQUEST | RTNL.NLM_F_ACK | RTNL.NLM_F_CREATE | RTNL.NLM_F_EXCL,
  )
    .header(16, () => {})
    .str(RTNL.IFLA_IFNAME, op.name);
  if (op.mtu !== undefined) m.u32(RTNL.IFLA_MTU, op.mtu);
  if (op.mac) m.bytes(RTNL.IFLA_ADDRESS, macBytes(op.mac));
  m.begin(RTNL.IFLA_LINKINFO).str(RTNL.IFLA_INFO_KIND, "vxlan").begin(RTNL.IFLA_INFO_DATA);
  m.u32(RTNL.IFLA_VXLAN_ID, op.vni);
  if (op.local !== undefined) {
    const ip = parseIp(op.local);
    m.bytes(ip.family === 4 ? RTNL.IFLA_VXLAN_LOCAL : RTNL.IFLA_VXLAN_LOCAL6, ipBytes(ip));
  }
  if (link !== undefined) m.u32(RTNL.IFLA_VXLAN_LINK, link);
  // The UDP port travels in network byte order, unlike every other integer attribute.
  m.bytes(RTNL.IFLA_VXLAN_PORT, Uint8Array.of(op.dstport >> 8, op.dstport & 0xff));
  m.u8(RTNL.IFLA_VXLAN_LEARNING, op.learning ? 1 : 0);
  return m.end().end();
}
