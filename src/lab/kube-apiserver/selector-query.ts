import { parseSelector } from "../../cli/parse-selector.ts";
import { TartanError } from "../../errors/tartan-error.ts";
import type { LabelSelector } from "../../model/k8s-resources.ts";
import { selectorMatches } from "../../model/label-selector.ts";
import { splitSelectorTerms } from "../../model/selector-terms.ts";
import { ApiError } from "./api-error.ts";

type Labels = Record<string, string> | undefined;

/**
 * A `labelSelector` query parameter as a predicate over labels, with the CLI's `-l` parser and the
 * model's matcher (one reading of the syntax everywhere); 400 when it does not parse.
 */
export function parseLabelSelector(s: string | null): (labels: Labels) => boolean {
  if (!s || s.trim() === "") return () => true;
  let selector: LabelSelector;
  try {
    selector = parseSelector(s);
  } catch (e) {
    if (!(e instanceof TartanError)) throw e;
    throw new ApiError("BadRequest", `unable to parse requirement: ${e.message}`);
  }
  return (labels) => selectorMatches(selector, labels ?? {});
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
  const reqs = splitSelectorTerms(s).map((t) => {
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
