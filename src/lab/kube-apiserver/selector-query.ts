import { ApiError } from "./api-error.ts";

type Labels = Record<string, string> | undefined;

/** One requirement of a label selector string (kubectl's `-l` syntax). */
interface Requirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!";
  values: string[];
}

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const VALUE = String.raw`[-A-Za-z0-9_.]*`;
const TERM_RES: [RegExp, (m: RegExpMatchArray) => Requirement][] = [
  [
    new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`),
    (m) => ({ key: m[1]!, op: m[2] === "!=" ? "!=" : "=", values: [m[3]!] }),
  ],
  [
    new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`),
    (m) => ({
      key: m[1]!,
      op: m[2] as "in" | "notin",
      values: m[3]!
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== ""),
    }),
  ],
  [new RegExp(`^!\\s*(${KEY})$`), (m) => ({ key: m[1]!, op: "!", values: [] })],
  [new RegExp(`^(${KEY})$`), (m) => ({ key: m[1]!, op: "exists", values: [] })],
];

/** Splits on commas outside parentheses. */
function terms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of s) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim() !== "") out.push(cur.trim());
  return out;
}

/** A `labelSelector` query parameter as a predicate over labels; 400 when it does not parse. */
export function parseLabelSelector(s: string | null): (labels: Labels) => boolean {
  if (!s || s.trim() === "") return () => true;
  const reqs = terms(s).map((t) => {
    for (const [re, make] of TERM_RES) {
      const m = t.match(re);
      if (m) return make(m);
    }
    throw new ApiError("BadRequest", `unable to parse requirement: ${JSON.stringify(t)}`);
  });
  return (labels) =>
    reqs.every((r) => {
      const v = labels?.[r.key];
      switch (r.op) {
        case "=":
        case "in":
          return v !== undefined && r.values.includes(v);
        case "!=":
        case "notin":
          return v === undefined || !r.values.includes(v);
        case "exists":
          return v !== undefined;
        default:
          return v === undefined; // "!key"
      }
    });
}

function fieldValue(obj: Record<string, unknown>, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[part] : undefined;
  }
  if (cur === undefined || cur === null) return "";
  return String(cur);
}

/**
 * A `fieldSelector` query parameter (`a=b`, `a==b`, `a!=b`, comma = AND) over the fields the kind
 * supports (metadata.name, metadata.namespace, and the kind's own list); 400 for any other field,
 * as kube-apiserver answers.
 */
export function parseFieldSelector(
  s: string | null,
  allowed: readonly string[],
  kind: string,
): (obj: Record<string, unknown>) => boolean {
  if (!s || s.trim() === "") return () => true;
  const reqs = terms(s).map((t) => {
    const m = t.match(/^([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new ApiError("BadRequest", `invalid selector: '${t}'; can't understand '${t}'`);
    const [, field, op, value] = m;
    if (!["metadata.name", "metadata.namespace", ...allowed].includes(field!)) {
      throw new ApiError(
        "BadRequest",
        `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"${allowed.map((a) => `, "${a}"`).join("")} (${kind})`,
      );
    }
    return { field: field!, negate: op === "!=", value: value!.trim() };
  });
  return (obj) => reqs.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}
