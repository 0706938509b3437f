import type { KernelOp } from "../../kernel-op.ts";
import { addrMessage } from "./addr-message.ts";
import { fdbMessage } from "./fdb-message.ts";
import { linkMessages } from "./link-messages.ts";
import { neighMessage } from "./neigh-message.ts";
import type { NlMessage } from "./nl-message.ts";
import type { OpContext } from "./op-context.ts";
import { routeMessage } from "./route-message.ts";
import { vxlanMessage } from "./vxlan-message.ts";

/** The op kinds this driver speaks natively (all of KernelOp today); any other kind goes to iproute2. */
export type NetlinkOp = Extract<
  KernelOp,
  {
    op:
      | "veth-add"
      | "bridge-add"
      | "link-set"
      | "link-del"
      | "addr-add"
      | "addr-del"
      | "route-add"
      | "route-del"
      | "neigh-replace"
      | "neigh-del"
      | "vxlan-add"
      | "fdb-replace"
      | "fdb-del";
  }
>;

/**
 * The request(s) of one op, to send in order. Name lookups happen here, over the namespace's
 * socket, so a missing device fails (NetlinkOpFailure) before anything of the op is sent.
 */
export function netlinkOpMessages(op: NetlinkOp, ctx: OpContext): NlMessage[] {
  switch (op.op) {
    case "veth-add":
    case "bridge-add":
    case "link-set":
    case "link-del":
      return linkMessages(op, ctx);
    case "addr-add":
    case "addr-del":
      return [addrMessage(op, ctx)];
    case "route-add":
    case "route-del":
      return [routeMessage(op, ctx)];
    case "neigh-replace":
    case "neigh-del":
      return [neighMessage(op, ctx)];
    case "vxlan-add":
      return [vxlanMessage(op, ctx)];
    case "fdb-replace":
    case "fdb-del":
      return [fdbMessage(op, ctx)];
  }
}
