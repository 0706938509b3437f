import { parseIp } from "../../../model/ip.ts";
import type { KernelOp } from "../../kernel-op.ts";
import { ipBytes } from "./ip-bytes.ts";
import { macBytes } from "./mac-bytes.ts";
import { NlMessage } from "./nl-message.ts";
import type { OpContext } from "./op-context.ts";
import { RTNL } from "./rtnl.ts";

type NeighOp = Extract<KernelOp, { op: "neigh-replace" | "neigh-del" }>;

/** `ip neigh replace IP lladdr MAC dev DEV nud permanent` / `ip neigh del IP dev DEV`. */
export function neighMessage(op: NeighOp, ctx: OpContext): NlMessage {
  const ip = parseIp(op.ip);
  const replace = op.op === "neigh-replace";
  const flags = RTNL.NLM_F_REQUEST | RTNL.NLM_F_ACK | (replace ? RTNL.NLM_F_CREATE | RTNL.NLM_F_REPLACE : 0);
  const index = ctx.dev(op.dev);
  const m = new NlMessage(replace ? RTNL.RTM_NEWNEIGH : RTNL.RTM_DELNEIGH, flags).header(12, (v) => {
    v.setUint8(0, ip.family === 4 ? RTNL.AF_INET : RTNL.AF_INET6);
    v.setInt32(4, index, true);
    v.setUint16(8, RTNL.NUD_PERMANENT, true);
  });
  m.bytes(RTNL.NDA_DST, ipBytes(ip));
  if (op.op === "neigh-replace") m.bytes(RTNL.NDA_LLADDR, macBytes(op.mac));
  return m;
}
