import type { LabelSelector } from "./k8s-resources.ts";

/**
 * Kubernetes label selector semantics: matchLabels and every matchExpression are ANDed; an empty
 * selector matches everything; NotIn and DoesNotExist match objects that lack the key.
 */
export function selectorMatches(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> = {},
): boolean {
  // Object.keys, not entries: no [k, v] array per label (a first compile tests ~10^5 pods).
  const ml = selector.matchLabels;
  if (ml) for (const k of Object.keys(ml)) if (labels[k] !== ml[k]) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case "In":
        if (!has || !(e.values ?? []).includes(value as string)) return false;
        break;
      case "NotIn":
        if (has && (e.values ?? []).includes(value as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
