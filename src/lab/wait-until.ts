import { TartanError } from "../errors/tartan-error.ts";

/**
 * Polls `check` until it returns a value other than undefined, or fails with what was awaited and
 * the last reason `check` gave (its last error), so a timeout says why rather than just "timeout".
 */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  hint?: string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      throw new TartanError(
        "lab-timeout",
        `${what}: not done after ${Math.round(timeoutMs / 1000)} s${last ? ` (last error: ${last})` : ""}`,
        hint,
      );
    }
    await Bun.sleep(intervalMs);
  }
}
