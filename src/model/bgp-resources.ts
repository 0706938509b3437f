import type { LabelSelector } from "./k8s-resources.ts";
import type { Resource } from "./resource.ts";

/**
 * BGP through BIRD (decision 0017): the cluster-wide settings (`BGPConfiguration`, singleton
 * `default`) and explicit peerings (`BGPPeer`), both `tartan.dev/v1alpha1`, cluster scoped, in
 * Calico's shapes (reference/bgp/BGP.md (a)). Secrets are plain strings in the object: tartan has
 * no secret store, and its datastore is already root-only (etcd with TLS and client certificates).
 */
export const BGP_KINDS = {
  bgpConfiguration: "BGPConfiguration",
  bgpPeer: "BGPPeer",
} as const;

export type BgpKind = (typeof BGP_KINDS)[keyof typeof BGP_KINDS];

export const isBgpKind = (k: unknown): k is BgpKind => k === "BGPConfiguration" || k === "BGPPeer";

/** The only BGPConfiguration that is read (Calico's singleton). */
export const BGP_CONFIGURATION_NAME = "default";

export interface BGPConfigurationSpec {
  /** AS of every node without its own `bgp.asNumber`; default 64512. */
  asNumber?: number;
  /** Full iBGP mesh between all nodes (route reflectors never mesh); default true. */
  nodeToNodeMeshEnabled?: boolean;
  /** TCP port BIRD listens on and dials mesh peers at; default 179. */
  listenPort?: number;
  /** TCP-MD5 password of the mesh sessions. */
  nodeMeshPassword?: string;
  /** Graceful-restart time of the mesh sessions ("120s", "2m"); default 120 s. */
  nodeMeshMaxRestartTime?: string;
}

export interface BGPPeerSpec {
  /** Only this node makes the peering. */
  node?: string;
  /** Only nodes whose labels match make the peering; neither this nor `node`: every node. */
  nodeSelector?: LabelSelector;
  /** An external router: `IP`, `IPv4:PORT` or `[IPv6]:PORT`. Exclusive with peerSelector. */
  peerIP?: string;
  /** The external router's AS (required with peerIP). */
  asNumber?: number;
  /** Peer with the other nodes whose labels match (their AS is their own). Exclusive with peerIP. */
  peerSelector?: LabelSelector;
  /** TCP-MD5 password (both ends). */
  password?: string;
  /** Graceful-restart time announced on this session ("120s"). */
  maxRestartTime?: string;
  /** BGP keepalive interval ("20s"); the hold time is three times it. */
  keepaliveTime?: string;
  /** UseNodeIP (default): sessions leave from the node's address; None: BIRD picks. */
  sourceAddress?: "UseNodeIP" | "None";
}

export type BGPConfigurationResource = Resource<BGPConfigurationSpec>;
export type BGPPeerResource = Resource<BGPPeerSpec>;
export type BgpResource = BGPConfigurationResource | BGPPeerResource;

/** The per-node BGP settings a Node carries (`spec.bgp`), published by its agent (agent config `bgp`). */
export interface NodeBGPSpec {
  /** This node's AS (per-rack AS behind a ToR); default the BGPConfiguration's. */
  asNumber?: number;
  /** Dotted IPv4: the node is a route reflector with this cluster ID and leaves the mesh. */
  routeReflectorClusterID?: string;
  /** The node's IPv6 underlay address: next hop of its IPv6 blocks (absent: IPv6 not routed by BGP). */
  ipv6Address?: string;
}

/** Defaults of BGPConfiguration (Calico's). */
export const BGP_DEFAULTS = {
  asNumber: 64512,
  nodeToNodeMeshEnabled: true,
  listenPort: 179,
  restartTimeSeconds: 120,
} as const;

/**
 * The label every node matches in BGPPeer selectors when it has a routeReflectorClusterID (set
 * by tartan, not stored): `peerSelector: {matchExpressions: [{key: tartan.dev/route-reflector,
 * operator: Exists}]}` peers with the reflectors without labelling Nodes by hand.
 */
export const ROUTE_REFLECTOR_LABEL = "tartan.dev/route-reflector";

/** Go-style durations as Calico writes them: "90s", "2m", "1m30s", "1h". */
const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Seconds of a duration text, or undefined when it is not one (or is empty). */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === "") return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
