import type { KernelOp } from "../../kernel-op.ts";
import { macBytes } from "./mac-bytes.ts";
import { NetlinkOpFailure } from "./netlink-op-failure.ts";
import { NlMessage } from "./nl-message.ts";
import type { OpContext } from "./op-context.ts";
import { RTNL } from "./rtnl.ts";

type LinkOp = Extract<KernelOp, { op: "veth-add" | "bridge-add" | "link-set" | "link-del" }>;

const ACK = RTNL.NLM_F_REQUEST | RTNL.NLM_F_ACK;
const CREATE = ACK | RTNL.NLM_F_CREATE | RTNL.NLM_F_EXCL;

/** ifinfomsg: family, type, index, flags, change. */
const ifinfo =
  (index = 0, flags = 0, change = 0, family: number = RTNL.AF_UNSPEC) =>
  (v: DataView) => {
    v.setUint8(0, family);
    v.setInt32(4, index, true);
    v.setUint32(8, flags, true);
    v.setUint32(12, change, true);
  };

function linkSet(op: Extract<LinkOp, { op: "link-set" }>, ctx: OpContext): NlMessage[] {
  const attrs = op.mtu !== undefined || op.master !== undefined;
  if (!attrs && op.hairpin === undefined && op.up === undefined) return [];
  // iproute2 resolves `master` while parsing the line, before the device itself.
  let master: number | undefined;
  if (typeof op.master === "string") {
    master = ctx.lookup(op.master);
    if (master === undefined)
      throw new NetlinkOpFailure(`argument "${op.master}" is wrong: Device does not exist`);
  }
  const index = ctx.dev(op.name);
  const out: NlMessage[] = [];
  if (attrs) {
    const m = new NlMessage(RTNL.RTM_NEWLINK, ACK).header(16, ifinfo(index));
    if (op.mtu !== undefined) m.u32(RTNL.IFLA_MTU, op.mtu);
    if (op.master !== undefined) m.u32(RTNL.IFLA_MASTER, master ?? 0);
    out.push(m);
  }
  // Hairpin is bridge-port data, applied by the port's *current* master, so it goes after the
  // master change (as the iproute2 driver's separate line does). Sent the way `bridge link set`
  // does (AF_BRIDGE + IFLA_PROTINFO): no link kind, hence no module autoload attempt.
  if (op.hairpin !== undefined) {
    out.push(
      new NlMessage(RTNL.RTM_SETLINK, ACK)
        .header(16, ifinfo(index, 0, 0, RTNL.AF_BRIDGE))
        .begin(RTNL.IFLA_PROTINFO | RTNL.NLA_F_NESTED)
        .u8(RTNL.IFLA_BRPORT_MODE, op.hairpin ? 1 : 0)
        .end(),
    );
  }
  // Up last: a port comes up already attached and configured.
  if (op.up !== undefined) {
    out.push(
      new NlMessage(RTNL.RTM_NEWLINK, ACK).header(16, ifinfo(index, op.up ? RTNL.IFF_UP : 0, RTNL.IFF_UP)),
    );
  }
  return out;
}

/** The RTM_*LINK message(s) of a link op, in the order iproute2 would send them. */
export function linkMessages(op: LinkOp, ctx: OpContext): NlMessage[] {
  switch (op.op) {
    case "veth-add": {
      // Open the peer's namespace first: a bad path fails before anything is created.
      const nsFd = op.peerNetns !== undefined ? ctx.netnsFd(op.peerNetns) : undefined;
      const m = new NlMessage(RTNL.RTM_NEWLINK, CREATE)
        .header(16, ifinfo())
        .str(RTNL.IFLA_IFNAME, op.name)
        .u32(RTNL.IFLA_MTU, op.mtu);
      if (op.mac) m.bytes(RTNL.IFLA_ADDRESS, macBytes(op.mac));
      m.begin(RTNL.IFLA_LINKINFO)
        .str(RTNL.IFLA_INFO_KIND, "veth")
        .begin(RTNL.IFLA_INFO_DATA)
        .begin(RTNL.VETH_INFO_PEER)
        .header(16, ifinfo())
        .str(RTNL.IFLA_IFNAME, op.peer)
        .u32(RTNL.IFLA_MTU, op.mtu);
      if (op.peerMac) m.bytes(RTNL.IFLA_ADDRESS, macBytes(op.peerMac));
      if (nsFd !== undefined) m.u32(RTNL.IFLA_NET_NS_FD, nsFd);
      return [m.end().end().end()];
    }
    case "bridge-add": {
      const m = new NlMessage(RTNL.RTM_NEWLINK, CREATE).header(16, ifinfo()).str(RTNL.IFLA_IFNAME, op.name);
      if (op.mtu !== undefined) m.u32(RTNL.IFLA_MTU, op.mtu);
      if (op.mac) m.bytes(RTNL.IFLA_ADDRESS, macBytes(op.mac));
      return [m.begin(RTNL.IFLA_LINKINFO).str(RTNL.IFLA_INFO_KIND, "bridge").end()];
    }
    case "link-set":
      return linkSet(op, ctx);
    case "link-del":
      return [new NlMessage(RTNL.RTM_DELLINK, ACK).header(16, ifinfo(ctx.dev(op.name)))];
  }
}
