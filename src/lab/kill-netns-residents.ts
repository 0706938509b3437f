import { run } from "../exec/run.ts";
import { processStartTime } from "./process-start-time.ts";

/**
 * SIGKILLs every process still living in one of the lab's own namespaces (a responder whose PID
 * was not recorded because its starter died, a probe still waiting), found by PID through
 * `ip netns pids`. A namespace with residents would survive `ip netns del`. Returns the PIDs.
 */
export async function killNetnsResidents(netns: string): Promise<number[]> {
  const out = await run(["ip", "netns", "pids", netns], { allowFailure: true });
  if (out.code !== 0) return [];
  const pids = out.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  const deadline = Date.now() + 3000;
  while (pids.some((p) => processStartTime(p) !== undefined) && Date.now() < deadline) await Bun.sleep(25);
  return pids;
}
