import { readFileSync } from "node:fs";
import { parseAgentConfig } from "../agent/agent-config.ts";
import { AGENT_IPAM_PATH, type NodeIpamState } from "../model/agent-api.ts";
import { askAgents } from "./ask-agents.ts";
import type { ClusterSnapshot } from "./cluster-snapshot.ts";
import type { CommandArgs } from "./command-args.ts";
import { type AgentRef, nodeAgents } from "./node-agents.ts";
import { readSnapshotTarget } from "./snapshot-target.ts";

/** Everything `tartan ipam show|check|release` compare: the cluster's objects and each node's store. */
export interface IpamState {
  snapshot: ClusterSnapshot;
  agents: AgentRef[];
  stores: NodeIpamState[];
  unreachable: { node: string; reason: string }[];
}

/** The socket of the agent config given with --config (a datastore-only file has none). */
function configSocket(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return parseAgentConfig(readFileSync(file, "utf8")).socket;
  } catch {
    return undefined;
  }
}

/**
 * The objects (--lab/--datastore/--config) and the stores: --socket, else the --config agent's,
 * else the lab's agents, else this host's agent.
 */
export async function readIpamState(args: CommandArgs): Promise<IpamState> {
  const { snapshot, lab } = await readSnapshotTarget(args);
  const socket = args.get("socket") ?? configSocket(args.get("config"));
  const agents = nodeAgents({ socket, node: args.get("node"), ...(lab ? { lab } : {}) });
  const { answers, unreachable } = await askAgents<NodeIpamState>(agents, AGENT_IPAM_PATH);
  return { snapshot, agents, stores: answers.map((a) => a.value), unreachable };
}
