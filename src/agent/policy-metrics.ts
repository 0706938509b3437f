import type { PolicyIR } from "../calc/policy-ir.ts";

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
    const isolated = (d: "ingress" | "egress") => ir?.pods.filter((p) => p[d]).length ?? 0;
    const sets = [...(ir?.sets.values() ?? [])];
    const problems = new Map<string, number>();
    for (const p of ir?.problems ?? []) problems.set(p.code, (problems.get(p.code) ?? 0) + 1);
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
      ['{direction="ingress"}', isolated("ingress")],
      ['{direction="egress"}', isolated("egress")],
    ]);
    metric("tartan_policy_sets", "gauge", "Named nft sets and maps of policy.", [["", sets.length]]);
    metric("tartan_policy_set_elements", "gauge", "Elements in policy sets and maps.", [
      ["", sets.reduce((n, s) => n + s.elements.length, 0)],
    ]);
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
