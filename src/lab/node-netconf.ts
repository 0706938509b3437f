import type { LabBackend } from "./lab-state.ts";

export interface NodeNetConfInput {
  network: string;
  backend: LabBackend;
  nodeIndex: number;
  nodeDir: string;
  /** With an agent: addresses from the node's blocks; without: a fixed per-node /24. */
  withAgent: boolean;
}

/** The pod MTU: VXLAN encapsulation costs 50 bytes of the underlay's 1500. */
export function podMtu(backend: LabBackend): number {
  return backend === "host-gw" ? 1500 : 1450;
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
    mtu: podMtu(i.backend),
    ipam,
    dataDir: `${i.nodeDir}/state`,
  };
}
