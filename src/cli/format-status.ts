import type { NodeStatusReport } from "../model/agent-api.ts";
import type { StatusNode } from "./node-verdict.ts";
import { formatTable } from "./report.ts";

/** 3d4h, 5h12m, 7m30s, 45s. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d${h}h`;
  if (h) return `${h}h${m}m`;
  if (m) return `${m}m${s % 60}s`;
  return `${s}s`;
}

const datastoreCell = (r: NodeStatusReport | undefined): string => {
  if (!r) return "-";
  const d = r.datastore;
  if (!d.reachable) return "UNREACHABLE";
  return (d.behind ?? 0) > 0 ? `behind ${d.behind}` : `ok ${d.latencyMs ?? "?"}ms`;
};

/** The one-line-per-node table of `tartan status`. */
export function formatStatusSummary(nodes: readonly StatusNode[]): string {
  return formatTable(
    ["NODE", "READY", "BACKEND", "AGENT", "UPTIME", "DATASTORE", "PEERS", "PODS", "ISOLATED", "VERDICT"],
    nodes.map((n) => {
      const r = n.agent;
      return [
        n.name,
        n.ready ? "yes" : "NO",
        n.backend,
        r ? r.version : n.remote ? "(remote)" : "unreachable",
        r ? duration(r.uptimeSeconds) : "-",
        datastoreCell(r),
        r ? `${r.peers.filter((p) => p.ok).length}/${r.peers.length}` : "-",
        r ? String(r.pods ?? r.addresses ?? "-") : "-",
        r?.isolatedPods !== undefined ? String(r.isolatedPods) : "-",
        n.verdict,
      ];
    }),
  );
}

const clock = (iso: string | undefined) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "-");

/** Everything about one node whose agent answered: sync, datastore, applies, every peer. */
export function formatStatusDetail(n: StatusNode): string {
  const r = n.agent;
  if (!r) {
    const lines = [`${n.name}: NOT READY`, `  ${n.verdict}`];
    if (n.hint) lines.push(`  what to do: ${n.hint}`);
    if (n.logTail?.length) lines.push("  last log lines:", ...n.logTail.map((l) => `    ${l}`));
    return `${lines.join("\n")}\n`;
  }
  const d = r.datastore;
  const lines = [
    `${n.name}: ${n.ready ? "healthy" : "NOT READY"}`,
    `  agent       ${r.version}, up ${duration(r.uptimeSeconds)} (since ${clock(r.startedAt)}), backend ${r.backend}`,
    `  datastore   ${
      d.reachable
        ? `reachable (${d.latencyMs} ms), watch ${(d.behind ?? 0) > 0 ? `behind by ${d.behind} objects` : "caught up"}`
        : `UNREACHABLE: ${d.error}`
    }`,
    `  in sync     ${r.inSyncSince ? `since ${clock(r.inSyncSince)}` : `no${r.notLive.length ? ` (re-listing ${r.notLive.join(", ")})` : ""}`}`,
    ...r.lastApply.map(
      (a) =>
        `  last apply  ${a.manager}: ${clock(a.at)}, ${a.durationMs} ms${a.changes !== undefined ? `, ${a.changes} changes` : ""}` +
        `${a.error ? `, FAILED: ${a.error}` : ""}${a.errors ? ` (${a.errors} failed since start)` : ""}`,
    ),
    `  pods        ${r.pods ?? "-"} (addresses ${r.addresses ?? "-"}), isolated ${r.isolatedPods ?? "-"}, blocks ${r.blocks.join(" ") || "-"}`,
  ];
  for (const p of r.routingProblems) lines.push(`  problem     ${p}`);
  for (const w of n.warnings) lines.push(`  warning     ${w}`);
  let out = `${lines.join("\n")}\n`;
  if (r.peers.length) {
    const table = formatTable(
      ["PEER", "OK", "ROUTES", "NEIGHBOUR", "FDB", "PROBLEM"],
      r.peers.map((p) => [
        p.name,
        p.ok ? "yes" : "NO",
        p.routes.map((x) => `${x.dst} ${x.state}`).join(", ") || "(no blocks)",
        p.neighbour ? `${p.neighbour.ip} ${p.neighbour.state}` : "-",
        p.fdb ? `${p.fdb.dst} ${p.fdb.state}` : "-",
        [p.problem, p.notReady ? `node not ready (${p.notReady})` : ""].filter(Boolean).join("; "),
      ]),
    );
    out += table
      .split("\n")
      .map((l) => (l ? `  ${l}` : l))
      .join("\n");
  }
  return out;
}
