import type { CniDeps } from "./cni-deps.ts";

/** Writes host-side sysctls, skipping those that already hold the value (no needless writes). */
export async function applySysctls(deps: CniDeps, sysctls: { key: string; value: string }[]): Promise<void> {
  for (const { key, value } of sysctls) {
    if ((await deps.dataplane.sysctlGet(null, key)) === value) continue;
    await deps.dataplane.sysctlSet(null, key, value);
  }
}
