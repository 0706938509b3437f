import type { NodeBGPSpec } from "./bgp-resources.ts";
import type { Resource } from "./resource.ts";

/** A node of the cluster as its agent registers it. */
export interface NodeSpec {
  /** The address other nodes reach this node at (VXLAN outer / host-gw next hop). */
  underlayAddress: string;
  /** The underlay subnet (CIDR) this address lives in: host-gw needs peers on the same one. */
  underlaySubnet: string;
  /** MAC of this node's VXLAN device, for the static FDB and neighbour entries of the others. */
  vtepMac?: string;
  /**
   * Kubernetes mode only, read-only: the Node's spec.podCIDRs as the controller manager assigned
   * them (ipam.mode node-podcidr); never written by tartan.
   */
  podCIDRs?: string[];
  /** BGP settings of this node (agent config `bgp`; the `bgp` backends, decision 0017). */
  bgp?: NodeBGPSpec;
}

export interface NodeStatus {
  /** ISO time of the agent's last heartbeat. */
  heartbeat?: string;
  /** Written by the node's own agent with every heartbeat: its own view, not the cluster's. */
  ready?: boolean;
  /**
   * Written by the cluster's node reclaimer (the agent holding the reclaim lease, decision 0014),
   * never by the node itself: `Ready` is "Unknown" while the node's heartbeat is stale.
   */
  conditions?: NodeCondition[];
}

/** A Kubernetes-style node condition, as the reclaimer writes it. */
export interface NodeCondition {
  type: "Ready";
  status: "True" | "False" | "Unknown";
  /** CamelCase cause: "HeartbeatStale", "HeartbeatResumed". */
  reason: string;
  message?: string;
  /** ISO time (the writer's clock) when status last changed. */
  lastTransitionTime: string;
  /** The agent that wrote the condition. */
  by?: string;
}

export type NodeResource = Resource<NodeSpec, NodeStatus>;

/** A range pods take their addresses from, carved into blocks that nodes claim. */
export interface IPPoolSpec {
  cidr: string;
  /** Prefix length of the blocks (26 for IPv4, 122 for IPv6 by default). */
  blockSize: number;
  /**
   * Pods of this pool reach addresses outside every pool from their node's address (masquerade),
   * as Calico's `natOutgoing`. Absent is false; the pools an agent creates from its config get
   * true unless the config says otherwise (Calico's default pool does the same).
   */
  natOutgoing?: boolean;
}

export type IPPoolResource = Resource<IPPoolSpec>;

/** One block of a pool, owned by one node (node affinity); its name is derived from its CIDR. */
export interface IPAMBlockSpec {
  cidr: string;
  pool: string;
  /** The node that owns the block. */
  node: string;
}

export type IPAMBlockResource = Resource<IPAMBlockSpec>;

export const KINDS = {
  node: "Node",
  ipPool: "IPPool",
  ipamBlock: "IPAMBlock",
  lease: "Lease",
} as const;

/**
 * A lease held by one agent at a time (the node reclaimer's, decision 0014): claimed with create,
 * renewed and taken over with compare-and-swap updates.
 */
export interface LeaseSpec {
  /** Node name of the agent holding the lease. */
  holder: string;
  /** ISO time of the holder's last renewal (its clock; others judge expiry by their own clock). */
  renewTime: string;
  leaseDurationSeconds: number;
  /** How many times the lease changed hands. */
  transitions?: number;
}

export type LeaseResource = Resource<LeaseSpec>;

/** IPAMBlock name for a CIDR: "10-244-1-0-26", "fd00--1-0-122"; unique per CIDR, a valid name. */
export function blockName(cidr: string): string {
  return cidr.replace(/[.:/]/g, "-").toLowerCase();
}

/** Block prefix length when a pool names none: 64 addresses per block in either family. */
export const DEFAULT_BLOCK_SIZE = { 4: 26, 6: 122 } as const;

/**
 * The pools an agent uses when its config names none: dual-stack, Calico's block sizes. The IPv6
 * pool is a ULA /48 (RFC 4193; global ID "tart" in hex), room for 2^74 blocks of 64 addresses.
 */
export const DEFAULT_POOLS: readonly IPPoolSpec[] = [
  { cidr: "10.244.0.0/16", blockSize: 26 },
  { cidr: "fd44:7461:7274::/48", blockSize: 122 },
];
