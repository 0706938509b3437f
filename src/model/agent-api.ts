/**
 * The agent's local API on its root-only unix socket (HTTP/1.1): the CNI plugin asks it for a
 * block when the node's blocks are full. Shared by the plugin (client) and the agent (server).
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
