import { podMtu } from "../calc/pod-mtu.ts";
import type { RoutingBackendName } from "../model/routing-backend.ts";
import { LAB_UNDERLAY_MTU } from "./underlay-plan.ts";

export interface NodeNetConfInput {
  network: string;
  backend: RoutingBackendName;
  nodeIndex: number;
  nodeDir: string;
  /** With an agent: addresses from the node's blocks; without: a fixed per-node /24. */
  withAgent: boolean;
}

/**
 * The CNI network config of one lab node: routed mode (no bridge; /32 routes the agent can
 * announce), tartan-ipam with the node's blocks and its agent socket, everything under the
 * node's own dir because all nodes share one filesystem.
 */
export function nodeNetConf(i: NodeNetConfInput): Record<string, unknown> {
  const dataDir = `${i.nodeDir}/ipam`;
  const ipam = i.withAgent
    ? { type: "tartan-ipam", nodeBlocks: true, agentSocket: `${i.nodeDir}/agent.sock`, dataDir }
    : { type: "tartan-ipam", ranges: [[{ subnet: `10.244.${i.nodeIndex}.0/24` }]], dataDir };
  return {
    cniVersion: "1.1.0",
    name: i.network,
    type: "tartan",
    mode: "routed",
    // The agent's calculation (the backend's encapsulation overhead; the lab's underlay is IPv4).
    mtu: podMtu(LAB_UNDERLAY_MTU, i.backend, 4),
    ipam,
    dataDir: `${i.nodeDir}/state`,
  };
}
