import type { PolicyIR } from "../calc/policy-ir.ts";

interface IrStats {
  isolated: { ingress: number; egress: number };
  sets: number;
  elements: number;
  /** Problems by code. */
  problems: Map<string, number>;
}

function irStats(ir: PolicyIR | undefined): IrStats {
  const isolated = { ingress: 0, egress: 0 };
  let elements = 0;
  const problems = new Map<string, number>();
  for (const p of ir?.pods ?? []) {
    if (p.ingress) isolated.ingress++;
    if (p.egress) isolated.egress++;
  }
  for (const s of ir?.sets.values() ?? []) elements += s.elements.length;
  for (const p of ir?.problems ?? []) problems.set(p.code, (problems.get(p.code) ?? 0) + 1);
  return { isolated, sets: ir?.sets.size ?? 0, elements, problems };
}

/** The policy manager's series, appended to the agent's /metrics (Prometheus text 0.0.4). */
export class PolicyMetrics {
  applies = 0;
  applyErrors = 0;
  applySecondsSum = 0;
  lastApplySeconds = 0;
  /** When the last apply succeeded (Date.now()), and the error of a failing one since (tartan status). */
  lastApplyAt: number | undefined;
  lastError: string | undefined;
  /** nft transactions run (an apply whose delta is empty runs none). */
  nftCalls = 0;
  /** Element-only deltas sent as one nf_tables netlink batch instead of nft -f (decision 0020). */
  elementBatches = 0;
  deltaChanges = 0;
  lastDeltaChanges = 0;
  /** Resyncs that found the kernel different from the IR (something changed it from outside). */
  driftRepairs = 0;
  private ir: PolicyIR | undefined;
  /**
   * The IR's gauges, counted once per IR: /metrics may be scraped often (bench:policy polls it
   * every few ms while it waits for the first apply), and at 10k pods / 1k policies counting the
   * set elements on every scrape took milliseconds of the agent's thread each time.
   */
  private counted: { ir: PolicyIR | undefined; stats: IrStats } | undefined;

  observe(ir: PolicyIR): void {
    this.ir = ir;
  }

  render(): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) out.push(`${name}${labels} ${v}`);
    };
    const ir = this.ir;
    if (!this.counted || this.counted.ir !== ir) this.counted = { ir, stats: irStats(ir) };
    const { isolated, sets, elements, problems } = this.counted.stats;
    metric(
      "tartan_policy_policies",
      "gauge",
      "NetworkPolicies known, and those selecting a pod of this node.",
      [
        ['{scope="cluster"}', ir?.policies.total ?? 0],
        ['{scope="node"}', ir?.policies.local ?? 0],
      ],
    );
    metric("tartan_policy_isolated_pods", "gauge", "Local pods isolated by policy, per direction.", [
      ['{direction="ingress"}', isolated.ingress],
      ['{direction="egress"}', isolated.egress],
    ]);
    metric("tartan_policy_sets", "gauge", "Named nft sets and maps of policy.", [["", sets]]);
    metric("tartan_policy_set_elements", "gauge", "Elements in policy sets and maps.", [["", elements]]);
    metric("tartan_policy_chains", "gauge", "Policy chains (per pod and direction, plus the base chain).", [
      ["", ir?.chains.size ?? 0],
    ]);
    metric(
      "tartan_policy_problems",
      "gauge",
      "Policies or pods that cannot be enforced as written, by code.",
      [...[...problems].sort().map(([c, n]): [string, number] => [`{code="${c}"}`, n])],
    );
    metric("tartan_policy_applies_total", "counter", "Policy applies (coalesced triggers).", [
      ["", this.applies],
    ]);
    metric("tartan_policy_apply_errors_total", "counter", "Policy applies that failed.", [
      ["", this.applyErrors],
    ]);
    metric("tartan_policy_apply_duration_seconds", "summary", "Time from recompute to rules in the kernel.", [
      ["_sum", this.applySecondsSum],
      ["_count", this.applies],
    ]);
    metric("tartan_policy_last_apply_duration_seconds", "gauge", "Duration of the last policy apply.", [
      ["", this.lastApplySeconds],
    ]);
    metric("tartan_policy_nft_transactions_total", "counter", "nft -f transactions run by policy.", [
      ["", this.nftCalls],
    ]);
    metric(
      "tartan_policy_element_batches_total",
      "counter",
      "Element-only policy deltas sent as nf_tables netlink batches (no nft process).",
      [["", this.elementBatches]],
    );
    metric("tartan_policy_delta_changes_total", "counter", "Kernel objects written by policy deltas.", [
      ["", this.deltaChanges],
    ]);
    metric("tartan_policy_last_delta_changes", "gauge", "Kernel objects written by the last delta.", [
      ["", this.lastDeltaChanges],
    ]);
    metric(
      "tartan_policy_drift_repairs_total",
      "counter",
      "Resyncs that restored policy objects changed from outside.",
      [["", this.driftRepairs]],
    );
    return `${out.join("\n")}\n`;
  }
}
