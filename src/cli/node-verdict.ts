import type { ClusterNodeStatus, NodeStatusReport, PeerProgramState } from "../model/agent-api.ts";
import type { UnreachableAgent } from "./ask-agents.ts";

/** One node as `tartan status` reports it: the agent's own report plus the verdict made of it. */
export interface StatusNode {
  name: string;
  /** Healthy: the agent answered and nothing below is wrong. */
  ready: boolean;
  /** Whether its agent answered. */
  reachable: boolean;
  backend: string;
  /** One line: "healthy: …" or the first problem (and how many more). */
  verdict: string;
  /** Everything that makes the node not ready, in words. */
  problems: string[];
  /** Worth knowing, not unhealthy (NetworkPolicies that cannot be enforced as written). */
  warnings: string[];
  peers: PeerProgramState[];
  /** The agent's report, when it answered. */
  agent?: NodeStatusReport;
  /** What to do about it (a node whose agent does not answer). */
  hint?: string;
  /** The last lines of the agent's log, when the CLI can read it (a lab's node whose agent is down). */
  logTail?: string[];
  /** Seen only through another agent's datastore view (outside a lab, `--all`). */
  remote?: { heartbeat?: string; readyReason?: string; seenBy: string };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Why a node is not healthy, from its agent's report; empty when it is. */
export function nodeProblems(r: NodeStatusReport): string[] {
  const out: string[] = [];
  if (!r.synced) out.push("first datastore sync not done");
  if (!r.datastore.reachable) out.push(`datastore unreachable: ${r.datastore.error ?? "no answer"}`);
  else if ((r.datastore.behind ?? 0) > 0) {
    const kinds = Object.entries(r.datastore.behindKinds ?? {})
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
    out.push(`watch behind the datastore by ${plural(r.datastore.behind!, "object")} (${kinds})`);
  }
  if (r.notLive.length) out.push(`watch lost, re-listing: ${r.notLive.join(", ")}`);
  for (const a of r.lastApply) if (a.error) out.push(`last ${a.manager} apply failed: ${a.error}`);
  out.push(...r.routingProblems);
  for (const p of r.peers) if (!p.ok) out.push(`peer ${p.name}: ${p.problem ?? "not ok"}`);
  return out;
}

/** A node whose agent answered: ready when no problem is found. */
export function statusOfReport(r: NodeStatusReport): StatusNode {
  const problems = nodeProblems(r);
  const warnings = [
    ...r.peers.filter((p) => p.notReady).map((p) => `peer ${p.name} is not ready (${p.notReady})`),
    ...r.unenforceable.map((u) => `${u.object}: ${u.code}: ${u.message}`),
  ];
  const okPeers = r.peers.filter((p) => p.ok).length;
  const verdict =
    problems.length === 0
      ? `healthy: ${okPeers}/${r.peers.length} peers programmed, ${plural(r.pods ?? r.addresses ?? 0, "pod")}` +
        `${r.unenforceable.length ? `, ${plural(r.unenforceable.length, "policy", "policies")} not enforceable` : ""}` +
        r.peers
          .filter((p) => p.notReady)
          .map((p) => `, peer ${p.name} not ready`)
          .join("")
      : `${problems[0]}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ""}`;
  return {
    name: r.name,
    ready: problems.length === 0,
    reachable: true,
    backend: r.backend,
    verdict,
    problems,
    warnings,
    peers: r.peers,
    agent: r,
  };
}

/** A node whose agent did not answer: not ready, with the reason. */
export function statusOfUnreachable(
  u: UnreachableAgent,
  backend = "unknown",
  more: { hint?: string; logTail?: string[] } = {},
): StatusNode {
  const problem = `agent unreachable: ${u.reason}`;
  return {
    name: u.node,
    ready: false,
    reachable: false,
    backend,
    verdict: problem,
    problems: [problem],
    warnings: [],
    peers: [],
    ...(more.hint ? { hint: more.hint } : {}),
    ...(more.logTail?.length ? { logTail: more.logTail } : {}),
  };
}

/** A node known only from the datastore (its heartbeat), as the local agent sees it. */
export function statusOfRemote(n: ClusterNodeStatus, seenBy: string, backend: string): StatusNode {
  const problem = n.ready ? undefined : `heartbeat stale (${n.readyReason ?? "not ready"})`;
  return {
    name: n.name,
    ready: n.ready,
    reachable: false,
    backend,
    verdict: problem ?? `heartbeat ${n.heartbeat ?? "-"} (run tartan status on that node for details)`,
    problems: problem ? [problem] : [],
    warnings: [],
    peers: [],
    remote: {
      seenBy,
      ...(n.heartbeat ? { heartbeat: n.heartbeat } : {}),
      ...(n.readyReason ? { readyReason: n.readyReason } : {}),
    },
  };
}
