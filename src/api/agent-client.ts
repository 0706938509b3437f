import { type ErrorCode, isErrorCode } from "../errors/error-code.ts";
import { TartanError } from "../errors/tartan-error.ts";
import {
  AGENT_BLOCKS_PATH,
  AGENT_HEALTH_PATH,
  AGENT_PODS_PATH,
  type AgentErrorBody,
  type AgentHealth,
  type BlockRequest,
  type BlockResponse,
  type PodJoinRequest,
  type PodJoinResponse,
} from "../model/agent-api.ts";

/** A block claim is one datastore list and create; a pod join waits for one nft apply. */
export const AGENT_REQUEST_TIMEOUT_MS = 5000;
/** DEL is best effort: the pod is going away either way. */
export const AGENT_LEAVE_TIMEOUT_MS = 2000;
/** A health check answers from memory; past this the agent counts as not ready. */
export const AGENT_HEALTH_TIMEOUT_MS = 2000;

/** What to do when the agent's socket does not answer; names commands that exist. */
export function agentUnreachableHint(socket: string): string {
  return (
    "is the tartan agent running on this node? Check its service and log (it runs as " +
    `\`tartan agent --config FILE\`), then \`tartan policy status --socket ${socket}\`; ` +
    "the socket path is ipam.agentSocket / the agent config's `socket`"
  );
}

/** Why a fetch on the socket failed, in words: no socket, nothing listening, or no answer in time. */
function whyUnreachable(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; code?: unknown; message?: string };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return `no answer within ${timeoutMs} ms`;
  if (err?.code === "ENOENT") return "no socket there (the agent is not running, or the path is wrong)";
  if (err?.code === "ECONNREFUSED") return "connection refused (nothing listens on the socket)";
  return `${typeof err?.code === "string" ? `${err.code}: ` : ""}${err?.message ?? String(e)}`;
}

export interface AgentRequest {
  method: "GET" | "POST" | "DELETE";
  path: string;
  body?: unknown;
  timeoutMs?: number;
  /** What the caller was doing, to start the error message ("claiming a block for network x"). */
  doing: string;
}

/**
 * The one client of the agent's local API (model/agent-api.ts) on its unix socket, used by the
 * CNI plugin, the CLI and the lab: HTTP over Bun's fetch with `unix:` (no module to load, no
 * process to spawn), every request bounded by a timeout. A socket that is absent, refuses or does
 * not answer in time fails with `agent-unreachable`; an error answer keeps the agent's code (or
 * `agent-error` when this build does not know it), message and hint.
 */
export class AgentClient {
  constructor(readonly socket: string) {}

  /** Whether the agent answers its health check (first sync done); never throws. */
  async healthy(timeoutMs = AGENT_HEALTH_TIMEOUT_MS): Promise<boolean> {
    return (await this.health(timeoutMs)).ok;
  }

  /** The health check's answer: ok once synced, and whether the node's network can give addresses. */
  async health(timeoutMs = AGENT_HEALTH_TIMEOUT_MS): Promise<AgentHealth> {
    try {
      const res = await fetch(`http://tartan-agent${AGENT_HEALTH_PATH}`, {
        unix: this.socket,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) return { ok: false };
      try {
        return { ...(JSON.parse(text) as AgentHealth), ok: true };
      } catch {
        return { ok: true }; // an older agent answered plain text
      }
    } catch {
      return { ok: false };
    }
  }

  /** POST /v1/blocks: claim a block for the node (the plugin, when the node's blocks are full). */
  claimBlock(req: BlockRequest): Promise<BlockResponse> {
    return this.request<BlockResponse>({
      method: "POST",
      path: AGENT_BLOCKS_PATH,
      body: req,
      doing: `claiming an IPAM block for network "${req.network}"`,
    });
  }

  /** POST /v1/pods: answered once the pod's policy rules are in the kernel. */
  joinPod(req: PodJoinRequest): Promise<PodJoinResponse> {
    return this.request<PodJoinResponse>({
      method: "POST",
      path: AGENT_PODS_PATH,
      body: req,
      doing: `confirming the network policy of pod ${req.namespace}/${req.name}`,
    });
  }

  /** DELETE /v1/pods: the pod's addresses are gone (best effort, short timeout). */
  async leavePod(req: PodJoinRequest): Promise<void> {
    await this.request<unknown>({
      method: "DELETE",
      path: AGENT_PODS_PATH,
      body: req,
      timeoutMs: AGENT_LEAVE_TIMEOUT_MS,
      doing: `telling the agent that pod ${req.namespace}/${req.name} left`,
    });
  }

  /** GET a JSON document (the policy state and drop counters). */
  get<T>(path: string, doing = `reading ${path}`): Promise<T> {
    return this.request<T>({ method: "GET", path, doing });
  }

  async request<T>(r: AgentRequest): Promise<T> {
    const timeoutMs = r.timeoutMs ?? AGENT_REQUEST_TIMEOUT_MS;
    let res: Response;
    let text: string;
    try {
      res = await fetch(`http://tartan-agent${r.path}`, {
        unix: this.socket,
        method: r.method,
        ...(r.body === undefined
          ? {}
          : { headers: { "content-type": "application/json" }, body: JSON.stringify(r.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      throw new TartanError(
        "agent-unreachable",
        `${r.doing}: the tartan agent does not answer at ${this.socket}: ${whyUnreachable(e, timeoutMs)}`,
        agentUnreachableHint(this.socket),
        { cause: e },
      );
    }
    if (!res.ok) {
      let body: Partial<AgentErrorBody> = {};
      try {
        body = JSON.parse(text) as AgentErrorBody;
      } catch {}
      const known = isErrorCode(body.code);
      throw new TartanError(
        known ? (body.code as ErrorCode) : "agent-error",
        `${r.doing}: the tartan agent at ${this.socket} answered ${res.status}` +
          `${!known && body.code ? ` (${body.code})` : ""}: ${body.message ?? text}`,
        body.hint,
      );
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      if (r.method === "DELETE") return undefined as T;
      throw new TartanError(
        "agent-error",
        `${r.doing}: the tartan agent at ${this.socket} answered with something that is not JSON: ${text.slice(0, 200)}`,
        "the agent and this command may be different tartan versions: `tartan version` on both",
      );
    }
  }
}
