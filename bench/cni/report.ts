// Turns the collected samples into rows (figures, ratios, target verdicts) and renders them as a
// table or as JSON. Ratios are candidate/reference: below 1.0 means the candidate is faster.
import { type Summary, summarize } from "./stats.ts";
import type { Op } from "./timed-invoke.ts";

export type Scenario = "sequential" | "concurrent";

export interface Target {
  stat: "p50" | "p99";
  /** "<=" for the p50 targets (at most bound x the reference), "<" for p99 (strictly below it). */
  cmp: "<=" | "<";
  /** The ratio candidate/reference the stat must stay within. */
  bound: number;
}

export interface Row {
  scenario: Scenario;
  op: Op;
  reference: Summary;
  candidate: Summary;
  ratioP50: number;
  ratioP99: number;
  target: Target;
  met: boolean;
}

/**
 * Targets (issue 11): sequentially ADD p50 <= 0.8 and DEL p50 <= 0.5 of the reference's; at 16
 * concurrent, p99 below the reference's.
 */
export const TARGETS: Record<Scenario, Record<Op, Target>> = {
  sequential: { ADD: { stat: "p50", cmp: "<=", bound: 0.8 }, DEL: { stat: "p50", cmp: "<=", bound: 0.5 } },
  concurrent: { ADD: { stat: "p99", cmp: "<", bound: 1.0 }, DEL: { stat: "p99", cmp: "<", bound: 1.0 } },
};

export function buildRow(scenario: Scenario, op: Op, ref: number[], cand: number[]): Row {
  const reference = summarize(ref);
  const candidate = summarize(cand);
  const ratioP50 = candidate.p50 / reference.p50;
  const ratioP99 = candidate.p99 / reference.p99;
  const target = TARGETS[scenario][op];
  const r = target.stat === "p50" ? ratioP50 : ratioP99;
  const met = target.cmp === "<=" ? r <= target.bound : r < target.bound;
  return { scenario, op, reference, candidate, ratioP50, ratioP99, target, met };
}

export interface Report {
  command: string;
  date: string;
  machine: Record<string, string>;
  candidate: string;
  reference: string;
  concurrency: number;
  /** Whether one uncounted pod stayed attached to each network during the run. */
  resident: boolean;
  /** ipMasq on both sides. */
  ipMasq: boolean;
  wrapper: Summary;
  rows: Row[];
  failures: { count: number; first: string[] };
}

const f = (ms: number): string => (Number.isFinite(ms) ? ms.toFixed(1) : "-");
const r2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : "-");

export function renderTable(rep: Report): string {
  const head = [
    "scenario",
    "op",
    "n",
    `${rep.reference} p50`,
    "p99",
    `${rep.candidate} p50`,
    "p99",
    "ratio p50",
    "ratio p99",
    "target",
    "met",
  ];
  const body = rep.rows.map((row) => [
    row.scenario === "concurrent" ? `concurrent x${rep.concurrency}` : "sequential",
    row.op,
    String(Math.min(row.reference.n, row.candidate.n)),
    f(row.reference.p50),
    f(row.reference.p99),
    f(row.candidate.p50),
    f(row.candidate.p99),
    r2(row.ratioP50),
    r2(row.ratioP99),
    `${row.target.stat} ratio ${row.target.cmp} ${row.target.bound.toFixed(1)}`,
    row.met ? "yes" : "NO",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 2 || i === 9 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [
    `== ipMasq ${rep.ipMasq ? "on" : "off"} (both sides), ${rep.resident ? "resident pod" : "empty network"}`,
    `machine: ${rep.machine.cpu}, kernel ${rep.machine.kernel}, load ${rep.machine.loadavg}, ${rep.date}`,
    `CNI plugin latency, ms (wall clock, spawn to exit; ratio = ${rep.candidate}/${rep.reference})`,
    `wrapper \`ip netns exec HOST true\`: p50 ${f(rep.wrapper.p50)}, p99 ${f(rep.wrapper.p99)} ms ` +
      "(included in every figure; cancels in the comparison)",
    rep.resident
      ? "network state: one resident pod per network (steady state)"
      : "network state: empty: every ADD is the network's first pod, every DEL its last",
    "",
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
    "",
  ];
  for (const row of rep.rows.filter((x) => x.scenario === "sequential")) {
    const w = rep.wrapper.p50;
    const net = (row.candidate.p50 - w) / (row.reference.p50 - w);
    out.push(`sequential ${row.op} p50 ratio net of the wrapper: ${r2(net)}`);
  }
  out.push(
    rep.failures.count === 0
      ? "failed invocations: 0"
      : `FAILED invocations: ${rep.failures.count}\n  ${rep.failures.first.join("\n  ")}`,
  );
  return out.join("\n");
}

/** One line per configuration: the four ratios that carry a target, and whether all are met. */
export function renderSummary(reps: Report[]): string {
  const cell = (rep: Report, sc: Scenario, op: Op): string => {
    const row = rep.rows.find((x) => x.scenario === sc && x.op === op);
    if (!row) return "-";
    const r = row.target.stat === "p50" ? row.ratioP50 : row.ratioP99;
    return `${r2(r)}${row.met ? "" : "!"}`;
  };
  const out = [
    "summary (ratio tartan/reference; ! = target missed): seq ADD p50 <= 0.8, seq DEL p50 <= 0.5, " +
      "x16 ADD/DEL p99 < 1.0",
    "ipMasq  network state   seq ADD p50  seq DEL p50  x16 ADD p99  x16 DEL p99  all met",
  ];
  for (const rep of reps) {
    out.push(
      [
        (rep.ipMasq ? "on" : "off").padEnd(7),
        (rep.resident ? "resident pod" : "empty").padEnd(15),
        cell(rep, "sequential", "ADD").padStart(11),
        cell(rep, "sequential", "DEL").padStart(12),
        cell(rep, "concurrent", "ADD").padStart(12),
        cell(rep, "concurrent", "DEL").padStart(12),
        (rep.rows.every((x) => x.met) ? "yes" : "no").padStart(8),
      ].join(" "),
    );
  }
  return out.join("\n");
}
