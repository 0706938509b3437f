import { AGENT_IPAM_PATH, type NodeIpamState } from "../model/agent-api.ts";
import type { ClusterSnapshot } from "./cluster-snapshot.ts";
import type { CommandArgs } from "./command-args.ts";
import { type AgentRef, askAgents, nodeAgents } from "./node-agents.ts";
import { readSnapshotTarget } from "./snapshot-target.ts";

/** Everything `tartan ipam show|check|release` compare: the cluster's objects and each node's store. */
export interface IpamState {
  snapshot: ClusterSnapshot;
  agents: AgentRef[];
  stores: NodeIpamState[];
  unreachable: { node: string; reason: string }[];
}

/** The objects (--lab/--datastore/--config) and the stores (--socket, else the lab's agents, else this host's). */
export async function readIpamState(args: CommandArgs): Promise<IpamState> {
  const { snapshot, lab } = await readSnapshotTarget(args);
  const agents = nodeAgents({ socket: args.get("socket"), node: args.get("node"), ...(lab ? { lab } : {}) });
  const { answers, unreachable } = await askAgents<NodeIpamState>(agents, AGENT_IPAM_PATH);
  return { snapshot, agents, stores: answers.map((a) => a.data), unreachable };
}
