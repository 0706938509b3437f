import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseAgentConfig } from "../agent/agent-config.ts";
import { isErrorCode } from "../errors/error-code.ts";
import { TartanError } from "../errors/tartan-error.ts";
import {
  AGENT_POLICY_DROPS_PATH,
  AGENT_POLICY_PATH,
  type AgentErrorBody,
  DEFAULT_AGENT_SOCKET,
  type PolicyDropRow,
} from "../model/agent-api.ts";
import { datastoreTarget, LAB_ROOT_DEFAULT } from "./datastore-target.ts";
import { formatTable, type OutputFormat, report } from "./report.ts";

export const POLICY_HELP = `  tartan policy drops|status [--node N] [--lab NAME | --socket PATH] [-o table|json|yaml]
                                             per pod and direction: packets dropped by policy and
                                             the policies isolating it (drops), or isolated pods
                                             and policies that cannot be enforced (status); asks
                                             the node agents of the lab that is up, or --socket
`;

interface AgentRef {
  node: string;
  socket: string;
}

/** The agents to ask: --socket, else the nodes of the lab (the one up, or --lab), else this host's agent. */
function agents(o: { socket?: string; lab?: string; node?: string }): AgentRef[] {
  if (o.socket) return [{ node: o.node ?? "-", socket: o.socket }];
  let lab: string | undefined;
  try {
    const t = datastoreTarget(o.lab ? { lab: o.lab } : {});
    if (t.type === "lab") lab = t.lab;
  } catch (e) {
    if (o.lab) throw e;
  }
  if (!lab) return [{ node: o.node ?? "-", socket: DEFAULT_AGENT_SOCKET }];
  const root = process.env.TARTAN_LAB_ROOT || LAB_ROOT_DEFAULT;
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

async function ask<T>(a: AgentRef, path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`http://tartan-agent${path}`, { unix: a.socket, signal: AbortSignal.timeout(5000) });
  } catch (e) {
    throw new TartanError(
      "agent-unreachable",
      `the agent of node ${a.node} does not answer at ${a.socket} (${e instanceof Error ? e.message : e})`,
      "is it running? (tartan lab ls, or the agent's service)",
    );
  }
  const text = await res.text();
  if (!res.ok) {
    const body = (() => {
      try {
        return JSON.parse(text) as AgentErrorBody;
      } catch {
        return { code: "agent-error", message: text };
      }
    })();
    throw new TartanError(
      isErrorCode(body.code) ? body.code : "agent-error",
      `node ${a.node}: ${body.message}`,
      body.hint,
    );
  }
  return JSON.parse(text) as T;
}

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

const parseOptions = (args: string[]) =>
  parseArgs({
    args,
    allowPositionals: true,
    options: {
      node: { type: "string" },
      lab: { type: "string" },
      socket: { type: "string" },
      output: { type: "string", short: "o", default: "table" },
    },
  });

/** `tartan policy drops|status`: asks each agent over its socket and prints what they answer. */
export async function policyCommand(args: string[], out: (t: string) => void): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (e) {
    throw new TartanError(
      "cli-usage",
      (e as Error).message,
      "tartan policy drops|status [--node N] [-o json]",
    );
  }
  const { values, positionals } = parsed;
  const format = values.output as OutputFormat;
  if (!["table", "json", "yaml"].includes(format)) {
    throw new TartanError("cli-usage", `unknown output format "${format}"`, "use -o table, json or yaml");
  }
  const sub = positionals[0];
  const refs = agents(values);
  if (sub === "drops") {
    const data: PolicyDrops = { drops: [] };
    for (const a of refs) {
      const r = await ask<{ drops: PolicyDropRow[] }>(a, AGENT_POLICY_DROPS_PATH);
      data.drops.push(...r.drops.map((d) => ({ node: a.node, ...d })));
    }
    out(
      report(data, format, (d: PolicyDrops) =>
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
      ),
    );
    return 0;
  }
  if (sub === "status") {
    const data: PolicyStatus = { nodes: [] };
    for (const a of refs)
      data.nodes.push({
        node: a.node,
        ...(await ask<Omit<PolicyStatus["nodes"][0], "node">>(a, AGENT_POLICY_PATH)),
      });
    out(
      report(data, format, (d: PolicyStatus) => {
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
          n.problems.map((p) => `  ${n.node}: ${p.object}: ${p.code}: ${p.message}\n`),
        );
        return problems.length ? `${pods}\nnot enforced as written:\n${problems.join("")}` : pods;
      }),
    );
    return 0;
  }
  throw new TartanError("cli-usage", `unknown policy command "${sub ?? ""}"`, "tartan policy drops|status");
}
