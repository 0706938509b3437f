/** How the trigger waits; the agent's tests inject their own. */
export interface SettleOptions {
  /**
   * The most a run waits after the previous one ended (0: never): it waits as long as the previous
   * run took, up to this. A trigger that finds the last run ended longer ago runs at once, so a
   * lone change is not delayed; one that follows a run closely waits out the rest, and everything
   * arriving meanwhile joins that run. Waiting as long as the run took keeps the runs at most
   * about half of the time under a stream of events, and costs little after a cheap run (the
   * Node and the block of one new node arrive as two watch events: measured +40 ms per new
   * node with a flat 50 ms window, a few ms with this one).
   */
  settleMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `work` after one or many trigger() calls, never two runs at once: triggers that arrive
 * while a run is going mark it dirty and cause exactly one more run after it (felix's pattern:
 * a burst of watch events becomes one apply). With a settle window, that next run first waits
 * as long as the previous one took (at most `settleMs`, counted from its end): a burst of watch
 * events spread over a few hundred ms (etcd commits a 1000-node burst as 16 transactions) then
 * takes a few runs instead of one per event batch that happened to arrive during a run. A
 * throwing run goes to onError; later triggers still run.
 */
export class CoalescingTrigger {
  private running: Promise<void> | undefined;
  private pending = false;
  private stopped = false;
  private lastEnd: number | undefined;
  private lastTook = 0;
  private readonly settleMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly onError: (e: unknown) => void,
    settle: SettleOptions = { settleMs: 0 },
  ) {
    this.settleMs = settle.settleMs;
    this.now = settle.now ?? (() => performance.now());
    this.sleep = settle.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  trigger(): void {
    if (this.stopped) return;
    this.pending = true;
    if (!this.running) this.running = this.loop();
  }

  /** Resolves once no run is going or pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops accepting triggers; a run already going finishes (await idle() for it). */
  stop(): void {
    this.stopped = true;
    this.pending = false;
  }

  private async loop(): Promise<void> {
    // Yield once so that triggers of the same tick (one watch batch) join this run.
    await Promise.resolve();
    try {
      while (this.pending && !this.stopped) {
        const since = this.lastEnd === undefined ? Number.POSITIVE_INFINITY : this.now() - this.lastEnd;
        const settle = Math.min(this.settleMs, this.lastTook);
        if (since < settle) {
          await this.sleep(settle - since);
          if (this.stopped) break;
        }
        this.pending = false;
        const start = this.now();
        try {
          await this.work();
        } catch (e) {
          this.onError(e);
        } finally {
          this.lastEnd = this.now();
          this.lastTook = this.lastEnd - start;
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
