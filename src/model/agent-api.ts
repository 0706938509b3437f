/**
 * The agent's local API on its root-only unix socket (HTTP/1.1): the CNI plugin asks it for a
 * block when the node's blocks are full and reports pods joining and leaving; the CLI reads the
 * policy state. Shared by the one client (api/agent-client.ts, used by the plugin, the CLI and
 * the lab) and the agent (server).
 */
export const DEFAULT_AGENT_SOCKET = "/run/tartan/agent.sock";

/** POST: claim a block for the node. */
export const AGENT_BLOCKS_PATH = "/v1/blocks";
/** GET: 200 once the agent has finished its first sync. */
export const AGENT_HEALTH_PATH = "/v1/healthz";

export interface BlockRequest {
  /** The CNI network name the agent serves. */
  network: string;
  /** The family whose blocks are full; absent when the node has no block at all yet. */
  family?: 4 | 6;
}

export interface BlockResponse {
  /** The node's block list for the network after the claim (what the local store now holds). */
  blocks: string[];
  /** The block claimed by this request, when one was. */
  claimed?: string;
}

/** Any non-2xx answer: a TartanError's fields. */
export interface AgentErrorBody {
  code: string;
  message: string;
  hint?: string;
}

/** POST: a pod was wired (CNI ADD); DELETE: its addresses are gone (CNI DEL). Body: PodJoinRequest. */
export const AGENT_PODS_PATH = "/v1/pods";
/** GET: the node's policy state (isolated pods, problems); /drops adds the drop counters. */
export const AGENT_POLICY_PATH = "/v1/policy";
export const AGENT_POLICY_DROPS_PATH = "/v1/policy/drops";

export interface PodJoinRequest {
  namespace: string;
  name: string;
  containerId: string;
  /** Bare addresses ("10.244.0.5", "fd44::5"); empty for DELETE. */
  ips: string[];
}

/** The answer to POST /v1/pods: sent only once the pod's policy rules are in the kernel. */
export interface PodJoinResponse {
  /** Whether policies isolate the pod, per direction (false: nothing to wait for). */
  ingress: boolean;
  egress: boolean;
  policies: string[];
}

/** One pod and direction of GET /v1/policy/drops. */
export interface PolicyDropRow {
  namespace: string;
  pod: string;
  direction: "ingress" | "egress";
  packets: number;
  bytes: number;
  /** The policies isolating the pod in that direction (their allow rules did not match). */
  policies: string[];
}

/** One Node as `GET /v1/status` lists it (`clusterNodes`): what `tartan lab ls` shows. */
export interface ClusterNodeStatus {
  name: string;
  underlayAddress: string;
  /** False once the node reclaimer marked it (its heartbeat stale; decision 0014). */
  ready: boolean;
  readyReason?: string;
  heartbeat?: string;
  blocks: string[];
}

/** GET: this node's BIRD: its sessions, the routes it installed, a verdict (the bgp backends). */
export const AGENT_BGP_PATH = "/v1/bgp";

/** One BGP session as `tartan bgp status` shows it. */
export interface BgpSessionStatus {
  /** The peer's address. */
  peer: string;
  /** The peer's node name; absent for a router outside the cluster. */
  peerNode?: string;
  asNumber: number;
  type: "mesh" | "reflector-client" | "reflector" | "node" | "external";
  /** BGP state (Idle, Connect, Active, OpenSent, OpenConfirm, Established) or BIRD's protocol state. */
  state: string;
  /** When the state last changed (BIRD's clock, as it prints it). */
  since: string;
  /** The last error or other detail BIRD gives (empty when none). */
  info: string;
  /** Address families carried (MP-BGP). */
  families: ("ipv4" | "ipv6")[];
  importedRoutes: number;
  exportedRoutes: number;
  /** BIRD protocol name (`birdc show protocols all NAME`). */
  protocol: string;
}

/** One route BIRD installed in the kernel (proto bird). */
export interface BgpRouteStatus {
  dst: string;
  via?: string;
  dev?: string;
  /** The BIRD protocol it came from. */
  from: string;
}

/** GET /v1/bgp. */
export interface BgpNodeStatus {
  name: string;
  /** True when bird runs and every session is Established. */
  healthy: boolean;
  /** One line: ok / degraded / down and why. */
  verdict: string;
  birdPid?: number;
  routerId?: string;
  asNumber?: number;
  routeReflectorClusterID?: string;
  sessions: BgpSessionStatus[];
  routes: BgpRouteStatus[];
  /** Peers the agent could not configure (calc problems). */
  problems: string[];
  /** Set by the CLI when the node's agent did not answer. */
  error?: string;
}
