import { AGENT_POLICY_DROPS_PATH, AGENT_POLICY_PATH, type PolicyDropRow } from "../model/agent-api.ts";
import { type AgentRef, agentRefs } from "./agent-refs.ts";
import { askAgents, reportUnreachable, type UnreachableAgent } from "./ask-agents.ts";
import { defineCommand, type OptionSpec } from "./command.ts";
import type { CommandArgs } from "./command-args.ts";
import { LAB_OPTION } from "./common-options.ts";
import { formatTable } from "./report.ts";

export type { AgentRef } from "./agent-refs.ts";

/**
 * The agents to ask (kept for callers of the old helper; new code: agentRefs, and askAgents for
 * answers that survive a dead agent).
 */
export const agents = (o: { socket?: string; lab?: string; node?: string; command?: string }): AgentRef[] =>
  agentRefs({ ...o, what: o.command ?? "tartan policy" }).refs;

export interface PolicyDrops {
  drops: (PolicyDropRow & { node: string })[];
  /** Nodes whose agent did not answer (the others' rows are still there); exit status 1. */
  unreachable: UnreachableAgent[];
}

export interface PolicyStatus {
  nodes: {
    node: string;
    policies: { total: number; local: number };
    pods: {
      namespace: string;
      name: string;
      ips: string[];
      ingress?: { policies: string[] };
      egress?: { policies: string[] };
    }[];
    problems: { object: string; code: string; message: string }[];
  }[];
  /** Nodes whose agent did not answer (the others' rows are still there); exit status 1. */
  unreachable: UnreachableAgent[];
}

const POLICY_OPTIONS: readonly OptionSpec[] = [
  { name: "node", value: "NODE", description: "only this node's agent" },
  LAB_OPTION,
  { name: "socket", value: "PATH", description: "ask the agent at this socket", complete: "file" },
];

const POLICY_DESCRIPTION =
  "Asks the node agents of the lab that is up (or --lab NAME), or the agent at --socket, or this\nhost's agent.";

const agentsOf = (args: CommandArgs) =>
  agentRefs({
    node: args.get("node"),
    lab: args.get("lab"),
    socket: args.get("socket"),
    what: "tartan policy",
  }).refs;

/** `tartan policy drops`: per pod and direction, packets dropped by policy and who isolates it. */
export const policyDropsCommand = defineCommand<PolicyDrops>({
  path: ["policy", "drops"],
  summary: "per pod and direction: packets dropped by policy and the policies isolating it",
  description: POLICY_DESCRIPTION,
  options: POLICY_OPTIONS,
  examples: ["tartan policy drops", "tartan policy drops --node node-2 -o json"],
  run: async (args) => {
    const r = await askAgents<{ drops: PolicyDropRow[] }>(agentsOf(args), AGENT_POLICY_DROPS_PATH);
    return {
      drops: r.answers.flatMap((a) => a.value.drops.map((d) => ({ node: a.ref.node, ...d }))),
      unreachable: r.unreachable,
    };
  },
  exitCode: (d, io) => reportUnreachable(d.unreachable, io.err),
  render: (d) =>
    formatTable(
      ["NODE", "NAMESPACE", "POD", "DIRECTION", "DROPPED", "BYTES", "ISOLATED BY"],
      d.drops.map((r) => [
        r.node,
        r.namespace,
        r.pod,
        r.direction,
        String(r.packets),
        String(r.bytes),
        r.policies.join(","),
      ]),
    ),
});

/** A rejected object's name may hold anything (a newline, escapes): quoted then, one line always. */
const printable = (s: string): string => (/^[\x21-\x7e]*$/.test(s) ? s : JSON.stringify(s));

/** `tartan policy status`: isolated pods and policies that cannot be enforced, per node. */
export const policyStatusCommand = defineCommand<PolicyStatus>({
  path: ["policy", "status"],
  summary: "isolated pods, and policies that cannot be enforced as written",
  description: POLICY_DESCRIPTION,
  options: POLICY_OPTIONS,
  examples: ["tartan policy status", "tartan policy status --lab lab2 -o yaml"],
  run: async (args) => {
    const r = await askAgents<Omit<PolicyStatus["nodes"][0], "node">>(agentsOf(args), AGENT_POLICY_PATH);
    return { nodes: r.answers.map((a) => ({ node: a.ref.node, ...a.value })), unreachable: r.unreachable };
  },
  exitCode: (d, io) => reportUnreachable(d.unreachable, io.err),
  render: (d) => {
    const pods = formatTable(
      ["NODE", "NAMESPACE", "POD", "IPS", "INGRESS ISOLATED BY", "EGRESS ISOLATED BY"],
      d.nodes.flatMap((n) =>
        n.pods.map((p) => [
          n.node,
          p.namespace,
          p.name,
          p.ips.join(","),
          p.ingress?.policies.join(",") ?? "-",
          p.egress?.policies.join(",") ?? "-",
        ]),
      ),
    );
    const problems = d.nodes.flatMap((n) =>
      n.problems.map((p) => `  ${n.node}: ${printable(p.object)}: ${p.code}: ${p.message}\n`),
    );
    return problems.length ? `${pods}\nnot enforced as written:\n${problems.join("")}` : pods;
  },
});
