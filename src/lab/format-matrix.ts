import type { LabMatrix, MatrixCell } from "./lab-matrix.ts";

/** As policy says: both work, or what fails is what policy denies. */
const asExpected = (c: MatrixCell): boolean =>
  c.policy ? c.ping === c.policy.ping && c.tcp === c.policy.tcp : c.ping && c.tcp;

/**
 * The matrix as a grid: a row per source pod, a column per destination, each cell "ping/tcp"
 * as ✓ or ✗ (several addresses per pod: all must pass; ⊘ = blocked, as NetworkPolicy says),
 * then the pairs denied by policy with the policies, then the failures spelled out.
 */
export function formatMatrix(m: LabMatrix): string {
  if (m.pods.length < 2) return "fewer than two pods: nothing to probe (tartan lab pod add NODE POD)\n";
  const label = (p: { pod: string; node: string }) => `${p.pod} (${p.node})`;
  const names = m.pods.map(label);
  const width = Math.max(9, ...names.map((n) => n.length));
  const colWidth = Math.max(...m.pods.map((p) => p.pod.length), 7);
  const mark = (ok: boolean) => (ok ? "\x1b[32m✓\x1b[0m" : "\x1b[31m✗\x1b[0m");
  const plain = process.env.NO_COLOR !== undefined || !process.stdout.isTTY;
  const show = (ok: boolean) => (plain ? (ok ? "✓" : "✗") : mark(ok));
  // A probe that fails because policy denies it: expected, not a failure.
  const blocked = plain ? "⊘" : "\x1b[33m⊘\x1b[0m";
  const cellMark = (cs: MatrixCell[], k: "ping" | "tcp") =>
    cs.length > 0 && cs.every((c) => c[k])
      ? show(true)
      : cs.length > 0 && cs.every((c) => c[k] || (c.policy && !c.policy[k] && asExpected(c)))
        ? blocked
        : show(false);
  const lines = [
    `${"from \\ to".padEnd(width)}  ${m.pods.map((p) => p.pod.padEnd(colWidth)).join("  ")}`.trimEnd(),
  ];
  for (const a of m.pods) {
    const cells = m.pods.map((b) => {
      if (a === b) return "·".padEnd(colWidth);
      const cs = m.cells.filter((c) => c.from === a.pod && c.to === b.pod);
      return `${cellMark(cs, "ping")}/${cellMark(cs, "tcp")}${" ".repeat(colWidth - 3)}`;
    });
    lines.push(`${label(a).padEnd(width)}  ${cells.join("  ")}`.trimEnd());
  }
  const denied = m.cells.filter((c) => !(c.ping && c.tcp) && c.policy && asExpected(c));
  lines.push(
    "",
    `cell: ping/tcp (TCP to the pod's responder; ⊘ denied by NetworkPolicy, as expected)   ${m.passed}/${m.total} reachable` +
      `${denied.length ? `, ${denied.length} denied by policy` : ""}${m.ok ? "" : " — FAILURES:"}`,
  );
  const what = (c: MatrixCell) => `ping ${c.ping ? "ok" : "failed"}, tcp ${c.tcp ? "ok" : "failed"}`;
  for (const c of m.cells.filter((x) => !asExpected(x))) {
    const said = c.policy
      ? ` — policy says ping ${c.policy.ping ? "allowed" : "denied"}, tcp ${c.policy.tcp ? "allowed" : "denied"}${c.policy.deniedBy ? ` by ${c.policy.deniedBy.join("; ")}` : ""}`
      : "";
    lines.push(`  ${c.from} → ${c.to} ${c.ip}: ${what(c)}${c.error ? ` (${c.error})` : ""}${said}`);
  }
  if (denied.length) lines.push("denied by NetworkPolicy (expected; tartan explain SRC DST says why):");
  for (const c of denied)
    lines.push(`  ${c.from} → ${c.to} ${c.ip}: ${what(c)}: ${c.policy!.deniedBy?.join("; ") ?? ""}`);
  if (m.policyUnknown) lines.push(`(${m.policyUnknown})`);
  return `${lines.join("\n")}\n`;
}
