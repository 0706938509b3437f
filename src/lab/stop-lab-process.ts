import type { LabProcess } from "./lab-state.ts";
import { processStartTime } from "./process-start-time.ts";

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {}
}

/**
 * Stops a process the lab started, by its recorded PID only and only if that PID still is our
 * process (same start time): SIGTERM to it and to its process group (spawnDetached made it the
 * group leader), SIGKILL after `graceMs`. Returns true when it was running.
 */
export async function stopLabProcess(p: LabProcess, graceMs = 3000): Promise<boolean> {
  const st = processStartTime(p.pid);
  if (st === undefined || (p.startTime && st !== p.startTime)) return false;
  signal(-p.pid, "SIGTERM");
  signal(p.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (processStartTime(p.pid) !== st) return true;
    await Bun.sleep(25);
  }
  signal(-p.pid, "SIGKILL");
  signal(p.pid, "SIGKILL");
  while (processStartTime(p.pid) === st && Date.now() < deadline + 2000) await Bun.sleep(25);
  return true;
}
