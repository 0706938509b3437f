import type { FieldErrors } from "./field-errors.ts";
import type { LabelSelector, LabelSelectorRequirement } from "./k8s-resources.ts";
import { k8sSyntax } from "./k8s-syntax.ts";
import { readFields } from "./read-fields.ts";

const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

/**
 * metav1.LabelSelector: matchLabels keys and values, and each expression's key, operator and
 * values (In/NotIn need at least one value, Exists/DoesNotExist take none). `{}` and null are
 * the empty selector, which matches everything.
 */
export function validateLabelSelector(raw: unknown, path: string, errs: FieldErrors): LabelSelector {
  if (raw === null || raw === undefined) return {};
  const o = readFields.object(raw, path, errs, ["matchLabels", "matchExpressions"]);
  if (!o) return {};
  const out: LabelSelector = {};
  const labels = readFields.stringMap(o.matchLabels, `${path}.matchLabels`, errs);
  if (labels) {
    for (const [k, v] of Object.entries(labels)) {
      errs.check(`${path}.matchLabels`, k, k8sSyntax.labelKey(k));
      errs.check(`${path}.matchLabels[${k}]`, v, k8sSyntax.labelValue(v));
    }
    out.matchLabels = labels;
  }
  const exprs = readFields.list(o.matchExpressions, `${path}.matchExpressions`, errs);
  if (exprs)
    out.matchExpressions = exprs.map((e, i) => requirement(e, `${path}.matchExpressions[${i}]`, errs));
  return out;
}

function requirement(raw: unknown, path: string, errs: FieldErrors): LabelSelectorRequirement {
  const o = readFields.object(raw, path, errs, ["key", "operator", "values"]) ?? {};
  const key = readFields.string(o.key, `${path}.key`, errs) ?? "";
  if (o.key !== undefined) errs.check(`${path}.key`, key, k8sSyntax.labelKey(key));
  const op = readFields.string(o.operator, `${path}.operator`, errs);
  const operator = OPERATORS.find((x) => x === op);
  if (op !== undefined && !operator) {
    errs.add(`${path}.operator`, `unsupported value "${op}": must be one of ${OPERATORS.join(", ")}`);
  }
  const rawValues = readFields.list(o.values, `${path}.values`, errs);
  const values: string[] = [];
  rawValues?.forEach((v, i) => {
    const s = readFields.string(v, `${path}.values[${i}]`, errs);
    if (s === undefined) return;
    errs.check(`${path}.values[${i}]`, s, k8sSyntax.labelValue(s));
    values.push(s);
  });
  if ((operator === "In" || operator === "NotIn") && values.length === 0) {
    errs.add(`${path}.values`, `must be specified when operator is ${operator}`);
  }
  if ((operator === "Exists" || operator === "DoesNotExist") && values.length > 0) {
    errs.add(`${path}.values`, `may not be specified when operator is ${operator}`);
  }
  const out: LabelSelectorRequirement = { key, operator: operator ?? "In" };
  if (rawValues) out.values = values;
  return out;
}
