import { formatIp, parseIp } from "../../model/ip.ts";
import type { KernelOp } from "../kernel-op.ts";
import { validateKernelOp } from "../validate-kernel-op.ts";

/** The ops that iproute2 serves through `bridge` rather than `ip`. */
export type BridgeOp = Extract<KernelOp, { op: "fdb-replace" | "fdb-del" }>;

export function isBridgeOp(op: KernelOp): op is BridgeOp {
  return op.op === "fdb-replace" || op.op === "fdb-del";
}

/**
 * The `bridge -batch -` line of an FDB op (without the leading "bridge"); validated first, so no
 * text can escape its line. `self` programs the VXLAN device's own table, not a bridge master's.
 */
export function bridgeBatchLine(op: BridgeOp): string {
  validateKernelOp(op);
  const mac = op.mac.toLowerCase();
  const dst = formatIp(parseIp(op.dst));
  return op.op === "fdb-replace"
    ? `fdb replace ${mac} dev ${op.dev} dst ${dst} self permanent`
    : `fdb del ${mac} dev ${op.dev} dst ${dst} self`;
}
