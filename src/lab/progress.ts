export interface Progress {
  /** Runs one step of a longer command and shows it: a spinner on a terminal, a plain line otherwise. */
  step<T>(title: string, work: () => Promise<T>, detail?: (v: T) => string): Promise<T>;
  /** A line of its own (a warning, a skipped step). */
  note(text: string): void;
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Progress of `lab up` and friends, one line per step, written to `out` (stderr: stdout stays
 * the command's data, e.g. its JSON). With no output it is silent (tests, rollbacks).
 */
export function makeProgress(out: ProgressOutput | null): Progress {
  const tty = out?.isTTY === true;
  return {
    note(text) {
      out?.write(`${tty ? "•" : "note "} ${text}\n`);
    },
    async step(title, work, detail) {
      const start = Date.now();
      let timer: ReturnType<typeof setInterval> | undefined;
      if (out && tty) {
        let i = 0;
        const draw = () =>
          out.write(
            `\r\x1b[2K${FRAMES[i++ % FRAMES.length]} ${title} \x1b[2m${seconds(Date.now() - start)}\x1b[0m`,
          );
        draw();
        timer = setInterval(draw, 80);
      }
      try {
        const v = await work();
        const d = detail ? detail(v) : "";
        const line = `${title}${d ? ` — ${d}` : ""} (${seconds(Date.now() - start)})`;
        if (out) out.write(tty ? `\r\x1b[2K\x1b[32m✓\x1b[0m ${line}\n` : `ok    ${line}\n`);
        return v;
      } catch (e) {
        if (out) out.write(tty ? `\r\x1b[2K\x1b[31m✗\x1b[0m ${title}\n` : `FAIL  ${title}\n`);
        throw e;
      } finally {
        if (timer) clearInterval(timer);
      }
    },
  };
}
