import { ExecError } from "../errors/exec-error.ts";

export interface RunOptions {
  /** Written to the child's stdin, then closed. */
  stdin?: string;
  /** Kill the child after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Run inside this network namespace (a path such as /run/netns/x or /proc/PID/ns/net). */
  netns?: string;
  /** Environment for the child (default: inherit). */
  env?: Record<string, string | undefined>;
  /** Return the result instead of throwing when the exit status is not 0. */
  allowFailure?: boolean;
  /**
   * Hand output on as it arrives (a relayed `get --watch`) instead of collecting it: stdout and
   * stderr of the result are then empty.
   */
  stream?: { out(text: string): void; err(text: string): void };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The only place that starts processes: argv only (never a shell), a timeout, and an optional
 * target netns (entered through nsenter, so the caller's namespace never changes).
 */
export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0) throw new Error("run: empty argv");
  const full = opts.netns ? ["nsenter", `--net=${opts.netns}`, "--", ...argv] : [...argv];
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(full, {
      stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
      stdout: "pipe",
      stderr: "pipe",
      env: opts.env,
      timeout: opts.timeoutMs ?? 30_000,
      killSignal: "SIGKILL",
    });
  } catch (e) {
    throw new ExecError(full, null, String(e), "", "could not be started");
  }
  const read = async (s: ReadableStream, to?: (t: string) => void): Promise<string> => {
    if (!to) return await new Response(s).text();
    const dec = new TextDecoder();
    for await (const chunk of s as unknown as AsyncIterable<Uint8Array>)
      to(dec.decode(chunk, { stream: true }));
    return "";
  };
  const [stdout, stderr, code] = await Promise.all([
    read(proc.stdout as ReadableStream, opts.stream?.out),
    read(proc.stderr as ReadableStream, opts.stream?.err),
    proc.exited,
  ]);
  if (proc.signalCode) {
    throw new ExecError(full, null, stderr, stdout, `was stopped by ${proc.signalCode} (timeout?)`);
  }
  if (code !== 0 && !opts.allowFailure) throw new ExecError(full, code, stderr, stdout);
  return { code, stdout, stderr };
}
