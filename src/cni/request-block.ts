import { TartanError } from "../errors/tartan-error.ts";
import {
  AGENT_BLOCKS_PATH,
  type AgentErrorBody,
  type BlockRequest,
  type BlockResponse,
} from "../model/agent-api.ts";

/** A block claim needs one datastore list and create; more than this means the agent is stuck. */
export const AGENT_REQUEST_TIMEOUT_MS = 5000;

export type RequestBlock = (socket: string, req: BlockRequest) => Promise<BlockResponse>;

/**
 * Asks the node agent, over its unix socket, to claim another block (fetch with `unix`: no
 * module to load, no process to spawn). Only called when the node's blocks are full, never on the
 * ordinary ADD path. Fails with agent-unreachable or the agent's own error code.
 */
export const requestBlock: RequestBlock = async (socket, req) => {
  let res: Response;
  try {
    res = await fetch(`http://tartan-agent${AGENT_BLOCKS_PATH}`, {
      unix: socket,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(req),
      signal: AbortSignal.timeout(AGENT_REQUEST_TIMEOUT_MS),
    });
  } catch (e) {
    const why = e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e);
    throw new TartanError(
      "agent-unreachable",
      `the node's IPAM blocks for network "${req.network}" are full and the tartan agent did not answer at ${socket} (${why})`,
      "start the agent (`tartan agent --config FILE`) or fix ipam.agentSocket; `journalctl`/its log tells why it is down",
    );
  }
  const text = await res.text();
  if (!res.ok) {
    let body: Partial<AgentErrorBody> = {};
    try {
      body = JSON.parse(text) as AgentErrorBody;
    } catch {}
    throw new TartanError(
      body.code ?? "agent-error",
      `the tartan agent could not claim a block for network "${req.network}": ${body.message ?? `HTTP ${res.status} ${text}`}`,
      body.hint,
    );
  }
  return JSON.parse(text) as BlockResponse;
};
