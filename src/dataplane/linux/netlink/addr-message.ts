import { lastOf, parseCidr } from "../../../model/cidr.ts";
import type { KernelOp } from "../../kernel-op.ts";
import { ipBytes } from "./ip-bytes.ts";
import { NlMessage } from "./nl-message.ts";
import type { OpContext } from "./op-context.ts";
import { RTNL } from "./rtnl.ts";

type AddrOp = Extract<KernelOp, { op: "addr-add" | "addr-del" }>;

/** RTM_NEWADDR / RTM_DELADDR carrying what `ip addr add|replace|del` sends. */
export function addrMessage(op: AddrOp, ctx: OpContext): NlMessage {
  const c = parseCidr(op.cidr);
  const add = op.op === "addr-add";
  const flags =
    RTNL.NLM_F_REQUEST |
    RTNL.NLM_F_ACK |
    (add ? RTNL.NLM_F_CREATE | (op.replace ? RTNL.NLM_F_REPLACE : RTNL.NLM_F_EXCL) : 0);
  const index = ctx.dev(op.dev);
  const nodad = add && op.nodad === true && c.ip.family === 6;
  // iproute2's default scope: host for 127/8, else universe (the kernel picks IPv6 scopes itself).
  const scope = add && c.ip.family === 4 && c.ip.value >> 24n === 127n ? RTNL.RT_SCOPE_HOST : 0;
  const local = ipBytes(c.ip);
  const m = new NlMessage(add ? RTNL.RTM_NEWADDR : RTNL.RTM_DELADDR, flags).header(8, (v) => {
    v.setUint8(0, c.ip.family === 4 ? RTNL.AF_INET : RTNL.AF_INET6);
    v.setUint8(1, c.prefix);
    v.setUint8(2, nodad ? RTNL.IFA_F_NODAD : 0);
    v.setUint8(3, scope);
    v.setUint32(4, index, true);
  });
  m.bytes(RTNL.IFA_LOCAL, local).bytes(RTNL.IFA_ADDRESS, local);
  // `broadcast +` of the iproute2 driver: IPv4 subnets get their all-ones broadcast address.
  if (add && c.ip.family === 4 && c.prefix < 31) {
    m.bytes(RTNL.IFA_BROADCAST, ipBytes(lastOf(c)));
  }
  return m;
}
