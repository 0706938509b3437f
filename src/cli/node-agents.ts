import { readFileSync } from "node:fs";
import { parseAgentConfig } from "../agent/agent-config.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { DEFAULT_AGENT_SOCKET } from "../model/agent-api.ts";
import type { LabFileFields } from "./lab-file.ts";

export interface AgentRef {
  /** The node's name, or "-" for the agent at a socket whose node is not known yet. */
  node: string;
  socket: string;
}

/**
 * The agents to ask: --socket, else every node of the lab, else this host's agent. A lab node's
 * socket is its agent config's (the default is `<node dir>/agent.sock`).
 */
export function nodeAgents(o: { socket?: string; node?: string; lab?: LabFileFields }): AgentRef[] {
  if (o.socket) return [{ node: o.node ?? "-", socket: o.socket }];
  if (!o.lab) return [{ node: o.node ?? "-", socket: DEFAULT_AGENT_SOCKET }];
  const nodes = o.lab.nodes.filter((n) => !o.node || n.name === o.node);
  if (nodes.length === 0) {
    throw new TartanError(
      "cli-usage",
      `lab "${o.lab.name}" has no node "${o.node}"`,
      `nodes: ${o.lab.nodes.map((n) => n.name).join(", ")}`,
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
