// The truth table of a NetworkPolicy scenario, after upstream's `Reachability` (test/e2e/network/
// netpol/reachability.go): one boolean per ordered pair of pods, a default for every cell, then
// expectations by pod, by direction or by peer predicate. Self→self cells are never compared.

/** "ns/pod" */
export type PodKey = string;

export const NAMESPACES = ["x", "y", "z"] as const;
export const POD_NAMES = ["a", "b", "c"] as const;
export const ALL_PODS: readonly PodKey[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => `${ns}/${p}`));

/** Which pods a peer predicate covers: everything, a namespace, or one pod. */
export interface PeerSpec {
  namespace?: string;
  pod?: string;
}

const matches = (key: PodKey, p: PeerSpec): boolean => {
  const [ns, pod] = key.split("/") as [string, string];
  return (p.namespace === undefined || p.namespace === ns) && (p.pod === undefined || p.pod === pod);
};

export class Reachability {
  private readonly cells = new Map<string, boolean>();

  constructor(
    readonly pods: readonly PodKey[] = ALL_PODS,
    dflt = true,
  ) {
    for (const a of pods) for (const b of pods) this.cells.set(`${a}>${b}`, dflt);
  }

  static from(pods: readonly PodKey[], get: (from: PodKey, to: PodKey) => boolean): Reachability {
    const r = new Reachability(pods);
    for (const a of pods) for (const b of pods) r.expect(a, b, get(a, b));
    return r;
  }

  get(from: PodKey, to: PodKey): boolean {
    const v = this.cells.get(`${from}>${to}`);
    if (v === undefined) throw new Error(`no cell ${from} -> ${to}`);
    return v;
  }

  expect(from: PodKey, to: PodKey, v: boolean): this {
    if (!this.cells.has(`${from}>${to}`)) throw new Error(`no cell ${from} -> ${to}`);
    this.cells.set(`${from}>${to}`, v);
    return this;
  }

  /** Everything into `to`. */
  expectAllIngress(to: PodKey, v: boolean): this {
    for (const a of this.pods) this.expect(a, to, v);
    return this;
  }

  /** Everything out of `from`. */
  expectAllEgress(from: PodKey, v: boolean): this {
    for (const b of this.pods) this.expect(from, b, v);
    return this;
  }

  /** Every pair whose source matches `from` and whose destination matches `to` ({} = any pod). */
  expectPeer(from: PeerSpec, to: PeerSpec, v: boolean): this {
    for (const a of this.pods)
      for (const b of this.pods) if (matches(a, from) && matches(b, to)) this.expect(a, b, v);
    return this;
  }

  /** Cells (self→self excluded) where `other` differs from this. */
  mismatches(other: Reachability): { from: PodKey; to: PodKey; want: boolean; got: boolean }[] {
    const out: { from: PodKey; to: PodKey; want: boolean; got: boolean }[] = [];
    for (const a of this.pods)
      for (const b of this.pods) {
        if (a === b) continue;
        const want = this.get(a, b);
        const got = other.get(a, b);
        if (want !== got) out.push({ from: a, to: b, want, got });
      }
    return out;
  }

  /** A 9×9 grid; `cell` renders one pair (self→self shows "-"). */
  grid(cell: (from: PodKey, to: PodKey) => string): string {
    const w = Math.max(...this.pods.map((p) => p.length)) + 1;
    const lines = [`${"".padEnd(w)}${this.pods.map((p) => p.padEnd(w)).join("")}`];
    for (const a of this.pods) {
      lines.push(`${a.padEnd(w)}${this.pods.map((b) => (a === b ? "-" : cell(a, b)).padEnd(w)).join("")}`);
    }
    return lines.join("\n");
  }

  render(): string {
    return this.grid((a, b) => (this.get(a, b) ? "." : "X"));
  }
}

/**
 * Upstream's failure printout: expected, observed, and the comparison (". " agrees, "X" differs),
 * rows are sources and columns destinations; "." = reachable, "X" = blocked.
 */
export function formatDiff(expected: Reachability, observed: Reachability): string {
  const diff = expected.grid((a, b) => (expected.get(a, b) === observed.get(a, b) ? "." : "X"));
  const rows = expected
    .mismatches(observed)
    .map(
      (m) =>
        `  ${m.from} -> ${m.to}: expected ${m.want ? "allowed" : "blocked"}, got ${m.got ? "allowed" : "blocked"}`,
    );
  return [
    "expected (. reachable, X blocked; rows = from, columns = to):",
    expected.render(),
    "observed:",
    observed.render(),
    "comparison (X = differs):",
    diff,
    ...rows,
  ].join("\n");
}
