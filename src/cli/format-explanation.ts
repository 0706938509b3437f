import type { DirectionExplanation, Explanation } from "../calc/explain.ts";
import type { ProbeOutcome } from "./explain-probe.ts";

export type ExplainResult = Explanation & { probe?: ProbeOutcome };

function side(d: DirectionExplanation): string {
  if (!d.pod) return d.reason;
  const where = `${d.pod}${d.node ? ` on ${d.node}` : ""}`;
  if (!d.isolated) return `${where}: not isolated (${d.reason})`;
  if (d.verdict === "allowed" && d.rule) {
    return `${where}: isolated by ${d.policies.join(", ")}; allowed by ${d.rule.policy} ${d.rule.text}`;
  }
  return `${where}: ${d.reason}`;
}

/** `tartan explain` as a few labelled lines: verdict, path, both directions, the probe. */
export function formatExplanation(e: ExplainResult): string {
  const ends = `${e.src.pod ?? e.src.ip} (${e.src.ip}) → ${e.dst.pod ?? e.dst.ip} (${e.dst.ip}) ${e.protocol}/${e.port}`;
  const rows: [string, string][] = [
    ["VERDICT", `${e.verdict.toUpperCase()}  ${ends}`],
    [
      "PATH",
      `${e.path.text}${e.path.problem && !e.path.text.includes(e.path.problem) ? ` (${e.path.problem})` : ""}`,
    ],
    ["EGRESS", `${e.egress.verdict}: ${side(e.egress)}`],
    ["INGRESS", `${e.ingress.verdict}: ${side(e.ingress)}`],
  ];
  if (e.probe) {
    const verdict =
      e.probe.agrees === undefined ? "cannot tell" : e.probe.agrees ? "agrees" : "DISAGREES with explain";
    rows.push([
      "PROBE",
      `${e.probe.sent}: ${e.probe.result} → ${e.probe.reality} (${verdict}); ${e.probe.detail}`,
    ]);
  }
  return `${rows.map(([k, v]) => `${k.padEnd(8)} ${v}`).join("\n")}\n`;
}
