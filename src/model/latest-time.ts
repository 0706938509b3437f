/** The later of two ISO times, either of which may be missing (a heartbeat lease and a Node's own). */
export function latestTime(a: string | undefined, b: string | undefined): string | undefined {
  if (!a || !b) return a || b;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}
