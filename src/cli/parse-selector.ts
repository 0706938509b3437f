import { TartanError } from "../errors/tartan-error.ts";
import type { LabelSelector } from "../model/k8s-resources.ts";
import { splitSelectorTerms } from "../model/selector-terms.ts";

type Expr = NonNullable<LabelSelector["matchExpressions"]>[number];

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
/** A label value: empty, or alphanumerics with - _ . inside, at most 63 characters (Kubernetes). */
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/**
 * kubectl's `-l` syntax: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists),
 * `!k` (does not exist), comma-separated and ANDed; the result is a LabelSelector the model's
 * selectorMatches evaluates (`k!=v` matches objects without k, as in Kubernetes).
 */
export function parseSelector(text: string): LabelSelector {
  const bad = (t: string) =>
    new TartanError(
      "cli-usage",
      `label selector "${text}": cannot read "${t}"`,
      "write k=v, k!=v, k in (a,b), k notin (a,b), k or !k, separated by commas",
    );
  const matchLabels: Record<string, string> = {};
  const matchExpressions: Expr[] = [];
  for (const t of splitSelectorTerms(text)) {
    const eq = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(t);
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(t);
    const not = /^!\s*(\S+)$/.exec(t);
    if (eq) {
      const [, key, op, value] = eq as unknown as [string, string, string, string];
      if (!KEY.test(key) || !VALUE.test(value)) throw bad(t);
      if (op === "!=") matchExpressions.push({ key, operator: "NotIn", values: [value] });
      // `a=x,a=y` asks for both (nothing matches), not for the last one alone.
      else if (key in matchLabels) matchExpressions.push({ key, operator: "In", values: [value] });
      else matchLabels[key] = value;
    } else if (set) {
      const [, key, op, list] = set as unknown as [string, string, string, string];
      if (!KEY.test(key)) throw bad(t);
      const values = list
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== "");
      if (!values.every((v) => VALUE.test(v))) throw bad(t);
      matchExpressions.push({ key, operator: op === "in" ? "In" : "NotIn", values });
    } else if (not && KEY.test(not[1]!)) {
      matchExpressions.push({ key: not[1]!, operator: "DoesNotExist" });
    } else if (KEY.test(t)) {
      matchExpressions.push({ key: t, operator: "Exists" });
    } else throw bad(t);
  }
  return {
    ...(Object.keys(matchLabels).length ? { matchLabels } : {}),
    ...(matchExpressions.length ? { matchExpressions } : {}),
  };
}
