import { TartanError } from "../errors/tartan-error.ts";
import type { NetnsRef } from "./dataplane.ts";
import { describeOp } from "./describe-op.ts";
import type { KernelOp } from "./kernel-op.ts";

/** What to do about the kernel's most common refusals; matched against the kernel's own words. */
const HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /file exists|already assigned/i,
    "it already exists: delete it first, or use replace where the op allows it",
  ],
  [
    /invalid gateway|no route to host/i,
    "the gateway is not on-link: add an address in its subnet or a scope link route to it first",
  ],
  [
    /cannot find device|does not exist/i,
    "the device does not exist in that namespace (created in another one, or already deleted?)",
  ],
  [
    /no such process/i,
    "no such route: it is already gone or its fields (dev, via, proto, table) do not match",
  ],
  [/address not found|cannot assign requested/i, "no such address on that device: it is already gone"],
  [/not up|network is down/i, "set the device up before adding routes through it"],
  [/netns|network namespace/i, "the target network namespace does not exist (the container may have exited)"],
  [/operation not supported/i, "the device kind does not support this (hairpin and master need a bridge)"],
  [/prefsrc/i, "the route's src must be an address of this namespace"],
];

function netnsLabel(netns: NetnsRef): string {
  return netns === null ? "the host namespace" : `netns ${netns}`;
}

/**
 * The error both Dataplane drivers throw when an op fails: it names the op, its position in the
 * batch, the namespace, and the kernel's words, so a CNI ADD failure is debuggable from one line.
 */
export function kernelOpError(
  netns: NetnsRef,
  op: KernelOp | undefined,
  index: number | undefined,
  total: number,
  kernelWords: string,
): TartanError {
  const which =
    op === undefined || index === undefined
      ? `one of ${total} ops (the tool did not say which)`
      : `op ${index + 1} of ${total} (${describeOp(op)})`;
  const hint =
    HINTS.find(([re]) => re.test(kernelWords))?.[1] ?? "rerun the op with ip by hand in that namespace";
  return new TartanError("kernel-op-failed", `${which} failed in ${netnsLabel(netns)}: ${kernelWords}`, hint);
}
