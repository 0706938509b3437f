/**
 * How a set's element array differs from an earlier array of the same set, when the incremental
 * compile knows it without comparing the two (a pod entered or left a peer): the delta renderer
 * then writes `add element` / `delete element` for these only, O(change) instead of O(set size).
 * Kept beside the array (by identity), so a consumer holding another base (the kernel's read-back,
 * an older IR) still diffs in full and gets the same answer.
 */
export interface ElementDelta {
  /** The array the delta starts from. */
  base: readonly string[];
  /** Elements in the new array and not in `base`, sorted as the arrays are. */
  added: string[];
  /** Elements in `base` and not in the new array, sorted likewise. */
  removed: string[];
}

const deltas = new WeakMap<readonly string[], ElementDelta>();

/** The delta that made `elements`, if the compile recorded one. */
export function elementDeltaOf(elements: readonly string[]): ElementDelta | undefined {
  return deltas.get(elements);
}

/** Index of `x` in the sorted `a`, or -(insertion point) - 1 when absent. */
function search(a: readonly string[], x: string): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid]!;
    if (v < x) lo = mid + 1;
    else if (v > x) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

/**
 * The sorted unique array `base` with each candidate present or not as `isIn` says (candidates
 * not named keep their state), and the delta recorded for it. Returns `base` itself when nothing
 * changed. Cost: O(candidates · log n) to decide, one copy of the array when something changed.
 */
export function withCandidates(
  base: readonly string[],
  candidates: Iterable<string>,
  isIn: (element: string) => boolean,
): readonly string[] {
  const added: string[] = [];
  const removed: string[] = [];
  for (const c of candidates) {
    const was = search(base, c) >= 0;
    const is = isIn(c);
    if (is && !was) added.push(c);
    else if (was && !is) removed.push(c);
  }
  if (added.length === 0 && removed.length === 0) return base;
  added.sort();
  removed.sort();
  // One merge pass: base without `removed`, with `added` inserted in order.
  const out: string[] = new Array(base.length - removed.length + added.length);
  let i = 0;
  let a = 0;
  let r = 0;
  let o = 0;
  while (i < base.length) {
    const v = base[i]!;
    if (r < removed.length && removed[r] === v) {
      r++;
      i++;
      continue;
    }
    if (a < added.length && added[a]! < v) out[o++] = added[a++]!;
    else {
      out[o++] = v;
      i++;
    }
  }
  while (a < added.length) out[o++] = added[a++]!;
  // Only the newest step is kept: base's own delta would hold its base, and so on back to the
  // first array (a chain growing with every change; a delta is only ever read against the
  // array the kernel was last given, the base).
  deltas.delete(base);
  deltas.set(out, { base, added, removed });
  return out;
}
