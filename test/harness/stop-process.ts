// Ending a process a test started, by its PID (never by name): SIGTERM, a grace period, then
// SIGKILL; it returns once the process is gone.
import { readFileSync } from "node:fs";
import { eventually } from "./eventually.ts";

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill 0: look at its state.
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** SIGTERM, and SIGKILL if it is still there after `graceMs`; fails if even that does not end it. */
export async function stopProcess(pid: number, graceMs: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {}
  const gone = () => !processAlive(pid);
  if (await eventually(`pid ${pid} gone after SIGTERM`, gone, { timeoutMs: graceMs, onTimeout: "last" }))
    return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
  await eventually(`pid ${pid} gone after SIGKILL`, gone, { timeoutMs: 10_000, intervalMs: 20 });
}
