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

/**
 * GET /v1/healthz (200 once synced): whether this node's network can give pods addresses, so
 * CNI STATUS on a node without blocks can tell "the agent will claim one" from "it cannot"
 * (`ipam.mode: node-podcidr` on a Node the controller manager gave no pod CIDR).
 */
export interface AgentHealth {
  ok: boolean;
  network?: { available: boolean; reason: string; message: string };
}

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

/**
 * GET: the drops by policy this agent saw recently (a bounded ring), as `DropsAnswer`; query
 * `since=SEQ` (only later records), `namespace=NS`, `pod=NAME` (either end of the packet).
 * With `follow=1`: JSON lines, one `DropsAnswer` without records first, then one `DropRecord` per line.
 */
export const AGENT_DROPS_PATH = "/v1/drops";

/** One end of a dropped packet: its address, and the pod holding it when the agent knows one. */
export interface DropEndpoint {
  ip: string;
  port?: number;
  namespace?: string;
  pod?: string;
  /** The pod's node. */
  node?: string;
}

/** A packet dropped by policy, as the agent read it from its log group. */
export interface DropEvent {
  kind: "drop";
  /** Per agent, increasing: `since` resumes after it. */
  seq: number;
  time: string;
  node: string;
  direction: "ingress" | "egress";
  src: DropEndpoint;
  dst: DropEndpoint;
  /** TCP, UDP, SCTP, ICMP, ICMPv6, or the IP protocol number. */
  protocol: string;
  icmp?: { type: number; code: number };
  /** The isolated pod ("ns/name") whose chain dropped it, and the policies isolating it there. */
  pod: string;
  policies: string[];
}

/**
 * Drops of one pod and direction that were counted but not reported one by one (the kernel's log
 * rate limit, or the agent's), since `since`.
 */
export interface DropSuppressed {
  kind: "suppressed";
  seq: number;
  time: string;
  node: string;
  direction: "ingress" | "egress";
  pod: string;
  policies: string[];
  count: number;
  since: string;
}

export type DropRecord = DropEvent | DropSuppressed;

/** The answer to GET /v1/drops. */
export interface DropsAnswer {
  node: string;
  /** Whether the agent reads its log group; `problem` says why not. */
  listening: boolean;
  group?: number;
  problem?: string;
  records: DropRecord[];
}

/** GET: this node's local IPAM store (reservations, attachments, its block list): `tartan ipam`. */
export const AGENT_IPAM_PATH = "/v1/ipam";
/** POST {ip, force?}: release a leaked address (`tartan ipam release`). */
export const AGENT_IPAM_RELEASE_PATH = "/v1/ipam/release";

/** One reservation of a node's store (datastore/ipam-store.ts Allocation). */
export interface IpamReservation {
  network: string;
  ip: string;
  containerId: string;
  ifname: string;
  rangeKey: string;
}

/** One attachment record of a node's store, with whether its network namespace still exists. */
export interface IpamAttachmentState {
  network: string;
  containerId: string;
  ifname: string;
  netns: string;
  hostIfname: string;
  createdAt: number;
  /** The netns path exists on the node (false: the container is gone, its DEL never came). */
  netnsExists: boolean;
}

/** The answer to GET /v1/ipam. */
export interface NodeIpamState {
  node: string;
  /** The CNI network the agent serves, and the blocks it lists for it in the store. */
  network: string;
  blocks: string[];
  reservations: IpamReservation[];
  attachments: IpamAttachmentState[];
}

export interface IpamReleaseRequest {
  ip: string;
  /** Release even when the owner's network namespace still exists. */
  force?: boolean;
}

export interface IpamReleaseResponse {
  node: string;
  /** Every address the owner (network, container, interface) held: all were released. */
  released: IpamReservation[];
  /** The owner's attachment record was removed too. */
  attachmentRemoved: boolean;
}

/** GET: this node's health as `tartan status` shows it (NodeStatusReport). */
export const AGENT_NODE_STATUS_PATH = "/v1/node/status";
/** GET ?lines=N: the agent's last log lines (JSON lines, newest last), for `tartan diagnose`. */
export const AGENT_LOG_PATH = "/v1/log";

/** What this node programmed for one peer node, compared with what the kernel holds now. */
export interface PeerProgramState {
  name: string;
  ok: boolean;
  /** What is missing or wrong, in words (absent when ok). */
  problem?: string;
  /** The peer's blocks with the route each needs (dst, how) and its state in the kernel. */
  routes: { dst: string; route?: string; state: "ok" | "missing" | "differs" | "conflict" | "not-routed" }[];
  /** The VXLAN neighbour / FDB entries the peer needs (vxlan only), and their state. */
  neighbour?: { ip: string; mac: string; state: "ok" | "missing" | "differs" };
  fdb?: { mac: string; dst: string; state: "ok" | "missing" | "differs" };
  /** The peer's Node is marked not ready by the node reclaimer (its heartbeat is stale): the reason. */
  notReady?: string;
}

/** Whether the datastore answers now and how far the agent's watches lag behind it. */
export interface DatastoreHealth {
  reachable: boolean;
  /** How long the check's lists took. */
  latencyMs?: number;
  /** Objects whose version in the agent's mirrors differs from the datastore's (0: caught up). */
  behind?: number;
  /** Per kind, when behind > 0. */
  behindKinds?: Record<string, number>;
  /** Why it is not reachable. */
  error?: string;
}

/** The last apply of one manager (routing, policy, …). */
export interface ManagerApply {
  manager: string;
  at: string;
  durationMs: number;
  /** How many kernel objects it changed, when it knows. */
  changes?: number;
  error?: string;
  /** Applies that failed since the agent started. */
  errors: number;
}

/** GET /v1/node/status: one node's health from its own agent. */
export interface NodeStatusReport {
  name: string;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  backend: string;
  /** First full sync done. */
  synced: boolean;
  /** Since when every mirror follows the datastore (absent: some mirror is re-listing). */
  inSyncSince?: string;
  /** Mirrors that lost their watch and are re-listing. */
  notLive: string[];
  datastore: DatastoreHealth;
  lastApply: ManagerApply[];
  peers: PeerProgramState[];
  /** Problems of this node's own routing (no VTEP MAC, VXLAN device missing). */
  routingProblems: string[];
  /** This node's pods (NetworkPolicy's pod mirror), absent when policy enforcement is off. */
  pods?: number;
  /** Addresses allocated in the node's IPAM store for the agent's network. */
  addresses?: number;
  isolatedPods?: number;
  /** NetworkPolicies (or other objects) that cannot be enforced as written. */
  unenforceable: { object: string; code: string; message: string }[];
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
