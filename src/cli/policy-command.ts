import { readFileSync } from "node:fs";
import { parseAgentConfig } from "../agent/agent-config.ts";
import { AgentClient } from "../api/agent-client.ts";
import { TartanError } from "../errors/tartan-error.ts";
import {
  AGENT_POLICY_DROPS_PATH,
  AGENT_POLICY_PATH,
  DEFAULT_AGENT_SOCKET,
  type PolicyDropRow,
} from "../model/agent-api.ts";
import { defineCommand, type OptionSpec } from "./command.ts";
import type { CommandArgs } from "./command-args.ts";
import { LAB_OPTION } from "./common-options.ts";
import { labRoot, pickLab, readLab } from "./labs-up.ts";
import { formatTable } from "./report.ts";
import { requireRoot } from "./require-root.ts";

export interface AgentRef {
  node: string;
  socket: string;
}

/** The agents to ask: --socket, else the nodes of the lab (the one up, or --lab), else this host's agent. */
export function agents(o: { socket?: string; lab?: string; node?: string; command?: string }): AgentRef[] {
  if (o.socket) return [{ node: o.node ?? "-", socket: o.socket }];
  // Agent sockets and the lab's state are root's: say so before "not up" or EACCES.
  requireRoot(`${o.command ?? "tartan policy"} (asking the agents, without --socket)`);
  const root = labRoot();
  const lab = pickLab(o.lab, root);
  if (!lab) return [{ node: o.node ?? "-", socket: DEFAULT_AGENT_SOCKET }];
  if (!readLab(root, lab))
    throw new TartanError("lab-not-up", `lab "${lab}" is not up`, `start it: tartan lab up --lab ${lab}`);
  const state = JSON.parse(readFileSync(`${root}/${lab}/lab.json`, "utf8")) as {
    nodes: { name: string; dir: string; agentConfigFile?: string }[];
  };
  const nodes = state.nodes.filter((n) => !o.node || n.name === o.node);
  if (nodes.length === 0) {
    throw new TartanError(
      "cli-usage",
      `lab "${lab}" has no node "${o.node}"`,
      `nodes: ${state.nodes.map((n) => n.name).join(", ")}`,
    );
  }
  return nodes.map((n) => {
    let socket = `${n.dir}/agent.sock`;
    try {
      if (n.agentConfigFile) socket = parseAgentConfig(readFileSync(n.agentConfigFile, "utf8")).socket;
    } catch {}
    return { node: n.name, socket };
  });
}

/** One agent's answer through the one socket client (bounded timeout, typed errors). */
const ask = <T>(a: AgentRef, path: string): Promise<T> =>
  new AgentClient(a.socket).get<T>(
    path,
    a.node === "-" ? `asking the agent at ${a.socket}` : `asking the agent of node ${a.node}`,
  );

export interface PolicyDrops {
  drops: (PolicyDropRow & { node: string })[];
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
}

const POLICY_OPTIONS: readonly OptionSpec[] = [
  { name: "node", value: "NODE", description: "only this node's agent" },
  LAB_OPTION,
  { name: "socket", value: "PATH", description: "ask the agent at this socket", complete: "file" },
];

const POLICY_DESCRIPTION =
  "Asks the node agents of the lab that is up (or --lab NAME), or the agent at --socket, or this\nhost's agent.";

const agentsOf = (args: CommandArgs) =>
  agents({ node: args.get("node"), lab: args.get("lab"), socket: args.get("socket") });

/** `tartan policy drops`: per pod and direction, packets dropped by policy and who isolates it. */
export const policyDropsCommand = defineCommand<PolicyDrops>({
  path: ["policy", "drops"],
  summary: "per pod and direction: packets dropped by policy and the policies isolating it",
  description: POLICY_DESCRIPTION,
  options: POLICY_OPTIONS,
  examples: ["tartan policy drops", "tartan policy drops --node node-2 -o json"],
  run: async (args) => {
    const data: PolicyDrops = { drops: [] };
    for (const a of agentsOf(args)) {
      const r = await ask<{ drops: PolicyDropRow[] }>(a, AGENT_POLICY_DROPS_PATH);
      data.drops.push(...r.drops.map((d) => ({ node: a.node, ...d })));
    }
    return data;
  },
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
    const data: PolicyStatus = { nodes: [] };
    for (const a of agentsOf(args))
      data.nodes.push({
        node: a.node,
        ...(await ask<Omit<PolicyStatus["nodes"][0], "node">>(a, AGENT_POLICY_PATH)),
      });
    return data;
  },
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
