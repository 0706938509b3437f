/**
 * A value from outside as it may appear in an error message: JSON-quoted (so control characters
 * and newlines are escaped and the message stays one line) and cut to `max` characters (so a
 * megabyte of input does not become a megabyte of message).
 */
export function shownValue(v: unknown, max = 80): string {
  const s = typeof v === "string" ? v : (JSON.stringify(v) ?? String(v));
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}
