import type { AgentLog } from "./agent-log.ts";

/**
 * The agent's last log lines, kept in memory so `tartan diagnose` can fetch them over the socket
 * wherever the log itself goes (journald, a file, a container's stderr). Bounded by line count;
 * each line is the same JSON the logger writes.
 */
export class LogRing {
  private readonly lines: string[] = [];

  constructor(private readonly max = 500) {}

  /** A logger that records every line here, then hands it to `next`. */
  wrap(next: AgentLog): AgentLog {
    return (level, msg, fields) => {
      this.push(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
      next(level, msg, fields);
    };
  }

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }

  /** The last `n` lines, oldest first. */
  tail(n = this.max): string[] {
    return this.lines.slice(-Math.max(0, n));
  }
}
