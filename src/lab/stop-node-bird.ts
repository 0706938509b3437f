import { readFileSync } from "node:fs";
import { run } from "../exec/run.ts";
import type { LabNode } from "./lab-state.ts";
import { processStartTime } from "./process-start-time.ts";

/**
 * Stops the bird a BGP node's agent started (`<node dir>/bird/bird.pid`, and only if that PID
 * lives in the node's namespace) with SIGTERM: BIRD then closes every session with an
 * administrative shutdown, so its peers (the other nodes, the ToR) drop its routes at once. A
 * SIGKILL would look like a crash, and graceful-restart helpers would keep them as stale for the
 * restart time. Returns the PID stopped, if any.
 */
export async function stopNodeBird(node: LabNode, graceMs = 3000): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number(readFileSync(`${node.dir}/bird/bird.pid`, "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const residents = await run(["ip", "netns", "pids", node.netns], { allowFailure: true });
  if (!residents.stdout.split(/\s+/).includes(String(pid))) return undefined;
  const started = processStartTime(pid);
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return undefined;
  }
  const deadline = Date.now() + graceMs;
  while (processStartTime(pid) === started && started !== undefined && Date.now() < deadline)
    await Bun.sleep(25);
  return pid;
}
