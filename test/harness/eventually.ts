/**
 * The one poll loop of the tests: whatever settles asynchronously (an agent's apply, a route, a
 * watch event, a lab matrix turning green) is awaited with `eventually`, so that every wait is
 * bounded and a timeout says what was awaited and what was last seen, not just "timeout".
 */

export interface EventuallyOptions<T> {
  /** How long to keep trying (ms); no default, so that every wait names its bound. */
  timeoutMs: number;
  /** Pause between tries (ms); 0 probes again at once (for probes that take time themselves). */
  intervalMs?: number;
  /** When a probe's value counts as done; by default any value but `false` (so a predicate, an
   *  assertion that returns nothing, or a probe returning what it found). */
  until?: (value: T) => boolean;
  /** On timeout: "throw" (default) fails with what was awaited and the last value or error;
   *  "last" returns the last value, for a caller whose own expect() on it gives the better diff. */
  onTimeout?: "throw" | "last";
  /** Done when the probe found something (returned anything but undefined); the result's type
   *  then leaves undefined out. */
  found?: true;
}

/** Thrown by a probe that knows further tries are pointless (the process it waits for died). */
export class GiveUp extends Error {}

/**
 * Calls `probe` until its value is done (see `until`) or the time is up. A probe that throws (an
 * expect() that does not hold yet, a connection refused) counts as not done; its error is
 * reported if the time runs out, unless it is a GiveUp, which fails at once.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; found: true },
): Promise<T>;
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  opts: EventuallyOptions<T>,
): Promise<T>;
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  opts: EventuallyOptions<T>,
): Promise<T> {
  const done = opts.until ?? (opts.found ? (v: T) => v !== undefined : (v: T) => v !== false);
  const deadline = Date.now() + opts.timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await probe();
      last = { value };
      if (done(value)) return value;
    } catch (e) {
      if (e instanceof GiveUp) throw new Error(`${what}: ${e.message}`);
      last = { error: e };
    }
    if (Date.now() > deadline) {
      if (opts.onTimeout === "last" && last && "value" in last) return last.value;
      throw new Error(`${what}: not within ${opts.timeoutMs} ms (${describe(last)})`);
    }
    if (opts.intervalMs !== 0) await Bun.sleep(opts.intervalMs ?? 50);
  }
}

function describe(last: { value: unknown } | { error: unknown }): string {
  if ("error" in last)
    return `last error: ${last.error instanceof Error ? last.error.message : String(last.error)}`;
  let text: string;
  try {
    text = JSON.stringify(last.value) ?? String(last.value);
  } catch {
    text = String(last.value);
  }
  return `last value: ${text.length > 500 ? `${text.slice(0, 500)}…` : text}`;
}
