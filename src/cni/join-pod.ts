import { CniCode, CniError } from "../errors/cni-error.ts";
import {
  AGENT_PODS_PATH,
  type AgentErrorBody,
  type PodJoinRequest,
  type PodJoinResponse,
} from "../model/agent-api.ts";

/** The agent answers once the pod's rules are in the kernel; past this the ADD fails (closed). */
export const POD_JOIN_TIMEOUT_MS = 5000;
/** DEL is best effort: the pod is going away either way. */
export const POD_LEAVE_TIMEOUT_MS = 2000;

export type JoinPod = (
  socket: string,
  req: PodJoinRequest,
  leave?: boolean,
) => Promise<PodJoinResponse | undefined>;

/**
 * Tells the node agent that a pod was wired (POST /v1/pods) or is gone (DELETE), over its unix
 * socket with fetch (no module to load, no process to spawn). A join fails with a CniError the
 * runtime shows: "try again later" (11), so the kubelet retries the sandbox.
 */
export const joinPod: JoinPod = async (socket, req, leave = false) => {
  const what = `${req.namespace}/${req.name}`;
  const fail = (why: string, hint?: string) =>
    new CniError(
      CniCode.tryAgainLater,
      `the tartan agent did not confirm the network policy of pod ${what}: ${why}`,
      "",
      hint ?? "the pod is not started without its policy; check the agent (`tartan policy status`, its log)",
    );
  let res: Response;
  try {
    res = await fetch(`http://tartan-agent${AGENT_PODS_PATH}`, {
      unix: socket,
      method: leave ? "DELETE" : "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(req),
      signal: AbortSignal.timeout(leave ? POD_LEAVE_TIMEOUT_MS : POD_JOIN_TIMEOUT_MS),
    });
  } catch (e) {
    const name = e instanceof Error ? ((e as { code?: string }).code ?? e.name) : String(e);
    throw fail(
      name === "TimeoutError"
        ? `no answer within ${POD_JOIN_TIMEOUT_MS} ms`
        : `no answer at ${socket} (${name})`,
      "start the agent (`tartan agent --config FILE`) or fix ipam.agentSocket",
    );
  }
  const text = await res.text();
  if (!res.ok) {
    let body: Partial<AgentErrorBody> = {};
    try {
      body = JSON.parse(text) as AgentErrorBody;
    } catch {}
    throw fail(`${body.code ?? `HTTP ${res.status}`}: ${body.message ?? text}`, body.hint);
  }
  return leave ? undefined : (JSON.parse(text) as PodJoinResponse);
};
