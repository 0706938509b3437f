import { constants } from "node:os";
import { ExecError } from "../errors/exec-error.ts";

/**
 * Runs a program with the caller's terminal (stdin, stdout, stderr inherited) and returns its
 * exit status: for interactive commands such as `tartan lab exec POD -- sh`, where capturing the
 * output would break the program. A signal death maps to 128 + signal number, as shells do.
 */
export async function runAttached(argv: readonly string[]): Promise<number> {
  if (argv.length === 0) throw new Error("runAttached: empty argv");
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn([...argv], { stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  } catch (e) {
    throw new ExecError(argv, null, String(e), "", "could not be started");
  }
  const code = await proc.exited;
  if (proc.signalCode) {
    return 128 + ((constants.signals as Record<string, number>)[proc.signalCode] ?? 0);
  }
  return code;
}
