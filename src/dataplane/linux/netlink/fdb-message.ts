import { parseIp } from "../../../model/ip.ts";
import type { KernelOp } from "../../kernel-op.ts";
import { ipBytes } from "./ip-bytes.ts";
import { macBytes } from "./mac-bytes.ts";
import { NlMessage } from "./nl-message.ts";
import type { OpContext } from "./op-context.ts";
import { RTNL } from "./rtnl.ts";

type FdbOp = Extract<KernelOp, { op: "fdb-replace" | "fdb-del" }>;

/**
 * `bridge fdb replace MAC dev DEV dst IP self permanent` / `bridge fdb del MAC dev DEV dst IP self`:
 * an AF_BRIDGE neighbour message with NTF_SELF, so the VXLAN device's own table is written (not a
 * bridge master's). The states are the ones bridge(8) sends: NOARP, plus PERMANENT on replace.
 */
export function fdbMessage(op: FdbOp, ctx: OpContext): NlMessage {
  const replace = op.op === "fdb-replace";
  const flags = RTNL.NLM_F_REQUEST | RTNL.NLM_F_ACK | (replace ? RTNL.NLM_F_CREATE | RTNL.NLM_F_REPLACE : 0);
  const index = ctx.dev(op.dev);
  const state = RTNL.NUD_NOARP | (replace ? RTNL.NUD_PERMANENT : 0);
  return new NlMessage(replace ? RTNL.RTM_NEWNEIGH : RTNL.RTM_DELNEIGH, flags)
    .header(12, (v) => {
      v.setUint8(0, RTNL.AF_BRIDGE);
      v.setInt32(4, index, true);
      v.setUint16(8, state, true);
      v.setUint8(10, RTNL.NTF_SELF);
    })
    .bytes(RTNL.NDA_LLADDR, macBytes(op.mac))
    .bytes(RTNL.NDA_DST, ipBytes(parseIp(op.dst)));
}
