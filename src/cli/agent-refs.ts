import { readFileSync } from "node:fs";
import { parseAgentConfig } from "../agent/agent-config.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { DEFAULT_AGENT_SOCKET } from "../model/agent-api.ts";
import { labRoot, pickLab, readLab } from "./labs-up.ts";
import { requireRoot } from "./require-root.ts";

/** One agent the CLI can ask: its node, its socket, and in a lab where the node lives. */
export interface AgentRef {
  /** The node's name; "-" when asking a socket or this host's agent without knowing the name. */
  node: string;
  socket: string;
  /** In a lab: the node's network namespace (its kernel state is read in there). */
  netns?: string;
  /** In a lab: the agent's config file and log. */
  configFile?: string;
  logFile?: string;
}

export interface AgentRefs {
  /** The lab whose agents these are, when one is. */
  lab?: string;
  /** The lab's backend (for nodes whose agent does not answer). */
  backend?: string;
  refs: AgentRef[];
}

interface LabNodeFields {
  name: string;
  dir: string;
  netns: string;
  agentConfigFile?: string;
}

/**
 * The agents a command asks: --socket, else every node of the lab (the one up, or --lab; --node
 * picks one), else this host's agent (--node may name it). In a lab every node's socket is known
 * from the lab's state: the agents run in the nodes' namespaces, their sockets sit in the nodes'
 * directories on the shared filesystem.
 */
export function agentRefs(o: { socket?: string; lab?: string; node?: string; what: string }): AgentRefs {
  if (o.socket) return { refs: [{ node: o.node ?? "-", socket: o.socket }] };
  // Agent sockets and the lab's state are root's: say so before "not up" or EACCES.
  requireRoot(`${o.what} (asking the agents, without --socket)`);
  const root = labRoot();
  const lab = pickLab(o.lab, root);
  if (!lab) return { refs: [{ node: o.node ?? "-", socket: DEFAULT_AGENT_SOCKET }] };
  if (!readLab(root, lab))
    throw new TartanError("lab-not-up", `lab "${lab}" is not up`, `start it: tartan lab up --lab ${lab}`);
  const state = JSON.parse(readFileSync(`${root}/${lab}/lab.json`, "utf8")) as {
    backend?: string;
    nodes: LabNodeFields[];
  };
  const nodes = state.nodes.filter((n) => !o.node || n.name === o.node);
  if (nodes.length === 0) {
    throw new TartanError(
      "cli-usage",
      `lab "${lab}" has no node "${o.node}"`,
      `nodes: ${state.nodes.map((n) => n.name).join(", ")}`,
    );
  }
  return {
    lab,
    ...(state.backend ? { backend: state.backend } : {}),
    refs: nodes.map((n) => {
      let socket = `${n.dir}/agent.sock`;
      try {
        if (n.agentConfigFile) socket = parseAgentConfig(readFileSync(n.agentConfigFile, "utf8")).socket;
      } catch {}
      return {
        node: n.name,
        socket,
        netns: n.netns,
        ...(n.agentConfigFile ? { configFile: n.agentConfigFile } : {}),
        logFile: `${n.dir}/agent.log`,
      };
    }),
  };
}
