import type { FieldErrors } from "./field-errors.ts";

type Obj = Record<string, unknown>;

const kindOf = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v);

/**
 * An object at `path`, or undefined (with an error) when it is something else. With `known`,
 * every other key is an "unknown field" error: a misspelt `ingres` or `podselector` would
 * otherwise be dropped silently and change what a policy means (deny-all, or select-all).
 */
function object(raw: unknown, path: string, errs: FieldErrors, known?: readonly string[]): Obj | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    errs.add(path, `must be an object, not ${kindOf(raw)}`);
    return undefined;
  }
  if (known) {
    for (const k of Object.keys(raw)) {
      if (!known.includes(k))
        errs.add(path ? `${path}.${k}` : k, `unknown field (known: ${known.join(", ")})`);
    }
  }
  return raw as Obj;
}

/** An optional list: absent or null → undefined; anything but a list → error. */
function list(raw: unknown, path: string, errs: FieldErrors): unknown[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    errs.add(path, `must be a list, not ${kindOf(raw)}`);
    return undefined;
  }
  return raw;
}

function string(raw: unknown, path: string, errs: FieldErrors): string | undefined {
  if (typeof raw === "string") return raw;
  errs.add(path, raw === undefined ? "Required value" : `must be a string, not ${kindOf(raw)}`);
  return undefined;
}

/** labels / annotations / matchLabels: string to string. YAML `app: 1` is a number: an error. */
function stringMap(raw: unknown, path: string, errs: FieldErrors): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  const o = object(raw, path, errs);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  // Object.keys, not entries: no [k, v] array per key (every ingested object's labels come here).
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (typeof v === "string") out[k] = v;
    else errs.add(`${path}[${k}]`, `must be a string, not ${kindOf(v)} (quote it in YAML)`);
  }
  return out;
}

export const readFields = { object, list, string, stringMap, kindOf };
