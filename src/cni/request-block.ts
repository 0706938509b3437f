import { AgentClient } from "../api/agent-client.ts";
import type { BlockRequest, BlockResponse } from "../model/agent-api.ts";

export type RequestBlock = (socket: string, req: BlockRequest) => Promise<BlockResponse>;

/**
 * Asks the node agent to claim another block. Only called when the node's blocks are full, never
 * on the ordinary ADD path. Fails with agent-unreachable (CNI 11: the runtime retries) or the
 * agent's own error code, both mapped by toCniError.
 */
export const requestBlock: RequestBlock = (socket, req) => new AgentClient(socket).claimBlock(req);
