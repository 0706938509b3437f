/**
 * Runs `work` after one or many trigger() calls, never two runs at once: triggers that arrive
 * while a run is going mark it dirty and cause exactly one more run after it (felix's pattern:
 * a burst of watch events becomes one apply). A throwing run goes to onError; later triggers
 * still run.
 */
export class CoalescingTrigger {
  private running: Promise<void> | undefined;
  private pending = false;
  private stopped = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly onError: (e: unknown) => void,
  ) {}

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
        this.pending = false;
        try {
          await this.work();
        } catch (e) {
          this.onError(e);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
