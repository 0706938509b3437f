import type { KernelOp } from "../kernel-op.ts";
import { bridgeBatchLine, isBridgeOp } from "./bridge-batch-line.ts";
import { ipBatchOpLines } from "./ip-batch-lines.ts";

/** One spawn of `ip -batch -` or `bridge -batch -` for a run of consecutive ops. */
export interface ToolBatch {
  tool: "ip" | "bridge";
  lines: string[];
  /** For each line, the index of its op in the whole apply (tools report failures by line). */
  opIndex: number[];
}

/**
 * Splits ops into runs for `ip` and `bridge` (FDB ops), keeping their order, so an apply is one
 * spawn per run: ordinarily one, two when FDB entries are written. Every op is rendered, and so
 * validated, before anything runs.
 */
export function toolBatches(ops: readonly KernelOp[]): ToolBatch[] {
  const batches: ToolBatch[] = [];
  ops.forEach((op, i) => {
    const tool = isBridgeOp(op) ? "bridge" : "ip";
    const lines = isBridgeOp(op) ? [bridgeBatchLine(op)] : ipBatchOpLines(op);
    let last = batches[batches.length - 1];
    if (last?.tool !== tool) {
      last = { tool, lines: [], opIndex: [] };
      batches.push(last);
    }
    for (const line of lines) {
      last.lines.push(line);
      last.opIndex.push(i);
    }
  });
  return batches;
}
