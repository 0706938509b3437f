// One place that remembers what a benchmark started (labs, processes, namespaces through the test
// harness) and removes it at the end, on failure, and on SIGINT/SIGTERM/SIGHUP. Processes are
// stopped by the PID we spawned, never by name.
import { cleanupAllNetns } from "../../test/harness/netns.ts";
import { labDown } from "./lab-cli.ts";

const labs = new Set<string>();
const procs = new Map<number, { kill(sig?: number): void; exited: Promise<number> }>();
let running: Promise<void> | undefined;

export function trackLab(name: string): void {
  labs.add(name);
}

export function untrackLab(name: string): void {
  labs.delete(name);
}

/** A process this benchmark spawned (e.g. an iperf3 server): killed by PID at cleanup. */
export function trackProcess(p: { pid: number; kill(sig?: number): void; exited: Promise<number> }): void {
  procs.set(p.pid, p);
}

export async function stopProcess(pid: number): Promise<void> {
  const p = procs.get(pid);
  if (!p) return;
  procs.delete(pid);
  p.kill(15);
  const t = setTimeout(() => p.kill(9), 2000);
  await p.exited.catch(() => {});
  clearTimeout(t);
}

/** Stops our processes, takes our labs down, deletes our namespaces. Idempotent. */
export function cleanupAll(log: (m: string) => void): Promise<void> {
  running ??= (async () => {
    for (const pid of [...procs.keys()]) await stopProcess(pid);
    for (const name of [...labs]) {
      try {
        const r = await labDown(name);
        if (r.leftovers.length) log(`lab ${name}: LEFT ${r.leftovers.join(", ")}`);
      } catch (e) {
        log(`lab ${name} down failed: ${e instanceof Error ? e.message : e}`);
      }
      labs.delete(name);
    }
    await cleanupAllNetns();
  })();
  return running;
}

/** Cleans up on SIGINT/SIGTERM/SIGHUP, then exits 128+signal. */
export function cleanupOnSignals(log: (m: string) => void): void {
  for (const [sig, num] of [
    ["SIGINT", 2],
    ["SIGTERM", 15],
    ["SIGHUP", 1],
  ] as const) {
    process.on(sig, () => {
      log(`${sig}: cleaning up`);
      void cleanupAll(log).finally(() => process.exit(128 + num));
    });
  }
}
