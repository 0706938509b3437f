import type { LabMatrix } from "./lab-matrix.ts";

/**
 * The matrix as a grid: a row per source pod, a column per destination, each cell "ping/tcp"
 * as ✓ or ✗ (several addresses per pod: all must pass), then the failures spelled out.
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
  const lines = [
    `${"from \\ to".padEnd(width)}  ${m.pods.map((p) => p.pod.padEnd(colWidth)).join("  ")}`.trimEnd(),
  ];
  for (const a of m.pods) {
    const cells = m.pods.map((b) => {
      if (a === b) return "·".padEnd(colWidth);
      const cs = m.cells.filter((c) => c.from === a.pod && c.to === b.pod);
      const ping = cs.length > 0 && cs.every((c) => c.ping);
      const tcp = cs.length > 0 && cs.every((c) => c.tcp);
      return `${show(ping)}/${show(tcp)}${" ".repeat(colWidth - 3)}`;
    });
    lines.push(`${label(a).padEnd(width)}  ${cells.join("  ")}`.trimEnd());
  }
  lines.push(
    "",
    `cell: ping/tcp (TCP to the pod's responder)   ${m.passed}/${m.total} reachable${m.ok ? "" : " — FAILURES:"}`,
  );
  for (const c of m.cells.filter((x) => !(x.ping && x.tcp))) {
    lines.push(
      `  ${c.from} → ${c.to} ${c.ip}: ping ${c.ping ? "ok" : "failed"}, tcp ${c.tcp ? "ok" : "failed"}${c.error ? ` (${c.error})` : ""}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
