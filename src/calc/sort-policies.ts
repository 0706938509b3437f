import { byText } from "../model/by-text.ts";
import type { NetworkPolicyResource } from "../model/k8s-resources.ts";

/** "<ns>/<name>" of an object. */
export const objectKey = (o: { metadata: { namespace?: string; name: string } }): string =>
  `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;

const byKey = (a: NetworkPolicyResource, b: NetworkPolicyResource): number =>
  byText(objectKey(a), objectKey(b));

/** Policies in compile order (by "<ns>/<name>"). */
export function sortPolicies(policies: Iterable<NetworkPolicyResource>): NetworkPolicyResource[] {
  return [...policies].sort(byKey);
}

/** The index in `sorted` (compile order) where `pol` is or would go: a binary search. */
function positionOf(sorted: readonly NetworkPolicyResource[], pol: NetworkPolicyResource): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byKey(sorted[mid]!, pol) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Keeps `sorted` (compile order, one policy per "<ns>/<name>") what sortPolicies would give after
 * `old` is replaced by `next` (either may be absent): a new policy costs two binary searches and a
 * splice instead of re-sorting every policy (~1.5 ms at 1000, comparing built keys).
 */
export function replaceSorted(
  sorted: NetworkPolicyResource[],
  old: NetworkPolicyResource | undefined,
  next: NetworkPolicyResource | undefined,
): void {
  if (old) {
    const i = positionOf(sorted, old);
    // The same key holds one policy; its object is the one the caller had (else search by identity).
    const at = sorted[i] === old ? i : sorted.indexOf(old);
    if (at >= 0) sorted.splice(at, 1);
  }
  if (next) sorted.splice(positionOf(sorted, next), 0, next);
}
