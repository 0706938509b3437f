import { readFileSync, writeFileSync } from "node:fs";
import { TartanError } from "../../errors/tartan-error.ts";
import { sysctlKey } from "../sysctl-key.ts";

/**
 * Sysctls of the namespace this process runs in, straight from /proc/sys (which shows the reading
 * process's namespace): no spawn. Its own small module so the CNI plugin can use it without
 * loading the iproute2 driver at start-up (docs/decisions/0001).
 */
export function readHostSysctl(key: string): string | undefined {
  const k = sysctlKey(key);
  try {
    return readFileSync(`/proc/sys/${k}`, "utf8").trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new TartanError("sysctl-failed", `reading /proc/sys/${k}: ${String(e)}`);
  }
}

export function writeHostSysctl(key: string, value: string): void {
  const k = sysctlKey(key);
  if (/[\n=]/.test(value)) throw new TartanError("sysctl-failed", `sysctl ${k}: invalid value "${value}"`);
  try {
    writeFileSync(`/proc/sys/${k}`, value);
  } catch (e) {
    throw new TartanError(
      "sysctl-failed",
      `writing ${value} to /proc/sys/${k}: ${String(e)}`,
      "is the key right and are we root?",
    );
  }
}
