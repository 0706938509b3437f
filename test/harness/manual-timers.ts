// A manual clock for code that takes AgentTimers (the agent, its mirrors and managers): nothing
// runs until the test advances the clock, so tests of intervals and backoffs wait for no real time.
import type { AgentTimers } from "../../src/agent/agent-timers.ts";

interface Pending {
  at: number;
  fn: () => void;
  every?: number;
}

export class ManualTimers implements AgentTimers {
  /** Milliseconds since the clock was made; pass `() => timers.now` as the agent's clock too. */
  now = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  setTimeout = (fn: () => void, ms: number): unknown => this.add({ at: this.now + ms, fn });
  clearTimeout = (t: unknown): void => {
    this.pending.delete(t as number);
  };
  setInterval = (fn: () => void, ms: number): unknown => this.add({ at: this.now + ms, fn, every: ms });
  clearInterval = (t: unknown): void => {
    this.pending.delete(t as number);
  };

  /** Timers still set (intervals count until cleared). */
  get size(): number {
    return this.pending.size;
  }

  /** Moves the clock by `ms`, running every timer that falls due on the way, in time order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let due: [number, Pending] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      const [id, p] = due;
      this.now = p.at;
      if (p.every !== undefined) p.at += Math.max(1, p.every);
      else this.pending.delete(id);
      p.fn();
    }
    this.now = end;
  }

  private add(p: Pending): number {
    const id = this.nextId++;
    this.pending.set(id, p);
    return id;
  }
}
