import { appendFileSync } from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * stderr writes, one after the other: Bun.write calls in flight at once can land out of order,
 * and process.exit drops those not done (an agent's "agent stopping" line was lost that way).
 */
let tail: Promise<unknown> = Promise.resolve();

/** Resolves once every log line written so far has reached stderr; await it before process.exit. */
export async function flushLogs(): Promise<void> {
  await tail;
}
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * JSON log lines for the plugin: never on stdout (the CNI result lives there). Warnings and errors
 * go to stderr, which runtimes show when a call fails; everything at or above TARTAN_LOG_LEVEL
 * goes to TARTAN_LOG_FILE when that is set.
 */
export function makeLogger(
  env: Record<string, string | undefined>,
  component: string,
  /** Lowest level written to stderr: the plugin keeps "warn"; the long-running agent logs "info". */
  stderrLevel: LogLevel = "warn",
) {
  const file = env.TARTAN_LOG_FILE;
  const stderrRank = RANK[stderrLevel];
  const fileLevel = RANK[(env.TARTAN_LOG_LEVEL as LogLevel) ?? "info"] ?? RANK.info;
  return (level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    const line = `${JSON.stringify({ time: new Date().toISOString(), level, component, pid: process.pid, msg, ...fields })}\n`;
    // Bun.write, not process.stderr: the node stream layer adds ~15 ms to a plugin start.
    if (RANK[level] >= stderrRank) tail = tail.then(() => Bun.write(Bun.stderr, line)).catch(() => {});
    if (file && RANK[level] >= fileLevel) {
      try {
        appendFileSync(file, line);
      } catch {}
    }
  };
}
