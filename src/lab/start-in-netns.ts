import { spawnDetached } from "../exec/spawn-detached.ts";
import type { LabProcess } from "./lab-state.ts";
import { processStartTime } from "./process-start-time.ts";

/**
 * Starts a long-lived program inside a lab namespace, detached, output to `log`. `ip netns exec`
 * execs the program in place (no fork), so the PID returned is the program's own; it also mounts
 * the namespace's /sys, which the agent and the plugin read.
 */
export async function startInNetns(
  netns: string,
  argv: string[],
  log: string,
  env?: Record<string, string | undefined>,
): Promise<LabProcess> {
  const full = ["ip", "netns", "exec", netns, ...argv];
  const pid = await spawnDetached(full, { logFile: log, env });
  return { pid, startTime: processStartTime(pid) ?? "", argv: full, log };
}
