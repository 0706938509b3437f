import type { PeerProgramState } from "../model/agent-api.ts";
import type { IPAMBlockResource, NodeResource } from "../model/cluster-resources.ts";
import type { RoutingBackendName } from "../model/routing-backend.ts";

/** Everything the kernel side may derive its desired state from, as of one moment. */
export interface ClusterSnapshot {
  /** This node's name (its own Node is among `nodes`). */
  nodeName: string;
  backend: RoutingBackendName;
  vxlan: { vni: number; port: number };
  underlay: Underlay;
  nodes: NodeResource[];
  blocks: IPAMBlockResource[];
}

/** This node's underlay, read from the configured interface at start. */
export interface Underlay {
  interface: string;
  /** Bare address, e.g. "198.18.0.2". */
  address: string;
  /** The subnet the address lives in, e.g. "198.18.0.0/15". */
  subnet: string;
  mtu: number;
}

/**
 * The agent's view of the kernel side: a cheap synchronous setDesired (pure calc, no I/O) and an
 * apply that diffs the kernel against the desired state and writes only the differences. The
 * composition root builds it from calc/ and KernelReconciler; unit tests use a recorder.
 */
export interface KernelPort {
  setDesired(snapshot: ClusterSnapshot): void;
  /**
   * Programs the kernel; answers how many kernel objects it changed when it knows, and where the
   * time went (ms per step, for the log) when it measured it.
   */
  apply(): Promise<{ changes?: number; timings?: Record<string, number> } | undefined>;
  /** The next apply compares with the kernel as read back, not with what it last wrote (drift repair). */
  verify?(): void;
  /** Per peer, whether the kernel holds what the snapshot needs (tartan status); optional for recorders. */
  inspect?(snapshot: ClusterSnapshot): Promise<{ peers: PeerProgramState[]; local: string[] }>;
}
