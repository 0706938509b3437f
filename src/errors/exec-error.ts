import { TartanError } from "./tartan-error.ts";

/** A spawned program failed: names the program, its arguments, its status and what it printed. */
export class ExecError extends TartanError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
    reason?: string,
  ) {
    const what = reason ?? (exitCode === null ? "was killed" : `exited with status ${exitCode}`);
    const err = stderr.trim().split("\n").slice(-3).join(" / ");
    super(
      "exec-failed",
      `${argv.join(" ")} ${what}${err ? `: ${err}` : ""}`,
      argv[0] ? `check that ${argv[0]} is installed and that the operation is allowed` : undefined,
    );
    this.name = "ExecError";
  }
}
