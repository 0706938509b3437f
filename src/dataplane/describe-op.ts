import type { KernelOp } from "./kernel-op.ts";

/**
 * One-line text of an op for error messages and logs, e.g. `route-add dst=default via=10.0.0.1`.
 * Both drivers use it so that a failure reads the same whether it came from the kernel or the fake.
 */
export function describeOp(op: KernelOp): string {
  const parts: string[] = [op.op];
  for (const [key, value] of Object.entries(op)) {
    if (key === "op" || value === undefined) continue;
    parts.push(`${key}=${value === null ? "none" : String(value)}`);
  }
  return parts.join(" ");
}
