import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { ExecError } from "../errors/exec-error.ts";

export interface DetachedOptions {
  /** stdout and stderr of the child are appended to this file. */
  logFile: string;
  /** Environment for the child (default: inherit). */
  env?: Record<string, string | undefined>;
}

/**
 * Starts a long-lived child (an agent, etcd, a lab responder) that outlives the caller: its own
 * session and process group (so a terminal's ^C does not reach it and it can be stopped as a
 * group), stdin closed, output to a log file. Returns its PID once the kernel has started it.
 */
export async function spawnDetached(argv: readonly string[], opts: DetachedOptions): Promise<number> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error("spawnDetached: empty argv");
  const fd = openSync(opts.logFile, "a", 0o600);
  try {
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: opts.env as NodeJS.ProcessEnv | undefined,
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", reject);
    });
    child.unref();
    if (child.pid === undefined) throw new Error("no pid");
    return child.pid;
  } catch (e) {
    throw new ExecError(argv, null, String(e), "", "could not be started");
  } finally {
    closeSync(fd);
  }
}
