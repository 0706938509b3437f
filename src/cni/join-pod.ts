import { AgentClient } from "../api/agent-client.ts";
import { CniCode, CniError } from "../errors/cni-error.ts";
import { TartanError } from "../errors/tartan-error.ts";
import type { PodJoinRequest, PodJoinResponse } from "../model/agent-api.ts";

export type JoinPod = (
  socket: string,
  req: PodJoinRequest,
  leave?: boolean,
) => Promise<PodJoinResponse | undefined>;

/**
 * Tells the node agent that a pod was wired (POST /v1/pods) or is gone (DELETE). A join that
 * the agent does not confirm, for whatever reason, is "try again later" (11): the pod must not
 * start without its policy (fail closed), and the kubelet retries the sandbox.
 */
export const joinPod: JoinPod = async (socket, req, leave = false) => {
  const agent = new AgentClient(socket);
  if (leave) return void (await agent.leavePod(req));
  try {
    return await agent.joinPod(req);
  } catch (e) {
    if (!(e instanceof TartanError)) throw e;
    throw new CniError(
      CniCode.tryAgainLater,
      e.message,
      "",
      e.hint ??
        "the pod is not started without its policy; check the agent (`tartan policy status`, its log)",
      { cause: e },
    );
  }
};
