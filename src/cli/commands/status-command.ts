import { agentUnreachableHint } from "../../api/agent-client.ts";
import { TartanError } from "../../errors/tartan-error.ts";
import {
  AGENT_NODE_STATUS_PATH,
  type ClusterNodeStatus,
  type NodeStatusReport,
} from "../../model/agent-api.ts";
import { type AgentRef, agentRefs } from "../agent-refs.ts";
import { askAgents } from "../ask-agents.ts";
import { defineCommand, type OptionSpec } from "../command.ts";
import { usageError } from "../command-args.ts";
import { LAB_OPTION } from "../common-options.ts";
import { fileTail } from "../file-tail.ts";
import { formatStatusDetail, formatStatusSummary } from "../format-status.ts";
import { type StatusNode, statusOfRemote, statusOfReport, statusOfUnreachable } from "../node-verdict.ts";

/** An agent's status answer reads the datastore (≤ 2 s, twice) and the kernel: more than a health check. */
export const STATUS_TIMEOUT_MS = 8000;

export interface StatusResult {
  lab?: string;
  nodes: StatusNode[];
  /** Print every node's details (one node asked, or -o wide). */
  detail: boolean;
  /** The agents asked (diagnose reads their nodes' kernels and logs too). */
  refs: AgentRef[];
  /** Outside a lab: the node this host's agent says it is. */
  here?: string;
}

/** In a lab: how to bring the agent back, and the last lines its log file holds. */
function labHints(lab: string, ref: AgentRef | undefined): { hint: string; logTail?: string[] } {
  const hint =
    `its log: ${ref?.logFile ?? "the node's agent.log"}; start it: tartan lab agent start ${ref?.node} --lab ${lab}; ` +
    `a bundle for a ticket: tartan diagnose --node ${ref?.node} -o FILE.tar.gz`;
  try {
    if (ref?.logFile) {
      const lines = fileTail(ref.logFile, 5).split("\n").filter(Boolean);
      return { hint, logTail: lines };
    }
  } catch {}
  return { hint };
}

/** Asks the agents `status` (and `diagnose`) speak for; never throws for an agent that does not answer. */
export async function collectStatus(o: {
  node?: string;
  all?: boolean;
  lab?: string;
  socket?: string;
}): Promise<StatusResult> {
  const { lab, backend, refs } = agentRefs({
    node: o.node,
    lab: o.lab,
    socket: o.socket,
    what: "tartan status",
  });
  const asked = await askAgents<NodeStatusReport>(refs, AGENT_NODE_STATUS_PATH, STATUS_TIMEOUT_MS);
  const byNode = new Map<string, StatusNode>();
  for (const a of asked.answers) byNode.set(a.ref.node, statusOfReport(a.value));
  for (const u of asked.unreachable) {
    const ref = refs.find((r) => r.node === u.node);
    byNode.set(
      u.node,
      statusOfUnreachable(u, backend, lab ? labHints(lab, ref) : { hint: agentUnreachableHint(u.socket) }),
    );
  }
  let nodes = refs.map((r) => byNode.get(r.node)!);
  if (!lab && asked.answers.length === 1)
    nodes = await withRemote(nodes, asked.answers[0]!, o.node, o.all ?? false);
  const here = !lab && asked.answers.length === 1 ? asked.answers[0]!.value.name : undefined;
  return { ...(lab ? { lab } : {}), nodes, detail: nodes.length === 1, refs, ...(here ? { here } : {}) };
}

export const AGENT_OPTIONS: readonly OptionSpec[] = [
  { name: "node", value: "NODE", description: "only this node" },
  {
    name: "all",
    description: "every node (in a lab the default; elsewhere the others as the datastore sees them)",
  },
  LAB_OPTION,
  { name: "socket", value: "PATH", description: "ask the agent at this socket", complete: "file" },
];

/**
 * `tartan status`: per node, from its own agent: version and uptime, backend, whether the
 * datastore answers and how far the watches lag, in sync since when, the last applies, and every
 * peer with the state of the routes, neighbour and FDB entries this node programmed for it; then
 * a one-line verdict. Agents are asked at once with a bounded timeout: a dead one is a row
 * saying so, never a hang and never a blank answer. Exit status 0 only when every node is healthy.
 */
export const statusCommand = defineCommand<StatusResult>({
  path: ["status"],
  summary: "per node: agent, datastore, sync, last apply, every peer's routes; a verdict",
  description:
    "Asks the node agents of the lab that is up (or --lab NAME; every node, or --node), or the agent\n" +
    "at --socket, or this host's agent. Exit status 0 only when every node asked is healthy; a node\n" +
    "whose agent does not answer is reported unreachable, with the reason.",
  options: AGENT_OPTIONS,
  examples: [
    "tartan status",
    "tartan status --node node-2",
    "tartan status --all -o json",
    "tartan status --lab lab1 -o wide",
  ],
  run: async (args) => {
    if (args.has("node") && args.flag("all"))
      throw usageError("--node and --all cannot be combined", "tartan status");
    return await collectStatus({
      node: args.get("node"),
      all: args.flag("all"),
      lab: args.get("lab"),
      socket: args.get("socket"),
    });
  },
  json: (r) => ({
    ...(r.here ? { here: r.here } : {}),
    ...(r.lab ? { lab: r.lab } : {}),
    // The peers once, at the node's top level (the JSON shape of issue 9), not again in `agent`.
    nodes: r.nodes.map((n) => (n.agent ? { ...n, agent: { ...n.agent, peers: undefined } } : n)),
  }),
  render: (r, { wide }) => {
    const summary = formatStatusSummary(r.nodes);
    if (!r.detail && !wide) return summary;
    return [summary, ...r.nodes.map(formatStatusDetail)].join("\n");
  },
  exitCode: (r) => (r.nodes.every((n) => n.ready) ? 0 : 1),
});

/**
 * Outside a lab only this host's agent is reachable: `--all` adds every other Node as the
 * datastore shows it (its heartbeat and the reclaimer's readiness), and `--node` naming another
 * node shows that view of it.
 */
async function withRemote(
  nodes: StatusNode[],
  local: { ref: { socket: string }; value: NodeStatusReport },
  wanted: string | undefined,
  all: boolean,
): Promise<StatusNode[]> {
  const me = local.value.name;
  const named = nodes.map((n) => (n.name === "-" ? { ...n, name: me } : n));
  if (!all && (wanted === undefined || wanted === me)) return named;
  const { clusterNodes } = (
    await askAgents<{ clusterNodes: ClusterNodeStatus[] }>(
      [{ node: me, socket: local.ref.socket }],
      "/v1/status",
    )
  ).answers[0]?.value ?? { clusterNodes: [] };
  const others = clusterNodes
    .filter((n) => n.name !== me && (all || n.name === wanted))
    .map((n) => statusOfRemote(n, me, local.value.backend));
  if (!all && others.length === 0) {
    throw new TartanError(
      "not-found",
      `this host's agent is node ${me} and knows no node "${wanted}"`,
      "list the nodes: tartan get nodes",
    );
  }
  return all ? [...named, ...others] : others;
}
