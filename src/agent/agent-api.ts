import type { PolicyIR } from "../calc/policy-ir.ts";
import type { ErrorCode } from "../errors/error-code.ts";
import { TartanError } from "../errors/tartan-error.ts";
import {
  AGENT_BGP_PATH,
  AGENT_BLOCKS_PATH,
  AGENT_HEALTH_PATH,
  AGENT_LOG_PATH,
  AGENT_NODE_STATUS_PATH,
  type AgentErrorBody,
  type AgentHealth,
  type BlockRequest,
  type ClusterNodeStatus,
} from "../model/agent-api.ts";
import { latestTime } from "../model/latest-time.ts";
import type { Agent } from "./agent.ts";
import { errorFields } from "./agent-log.ts";
import { BgpManager } from "./bgp-manager.ts";
import { dropsApi } from "./drops-api.ts";
import { ipamApi } from "./ipam-api.ts";
import type { LogRing } from "./log-ring.ts";
import { type NodeHeartbeatSeen, readHeartbeats } from "./node-heartbeat.ts";
import { markedNotReady, readyCondition } from "./node-reclaimer.ts";
import { nodeStatus } from "./node-status.ts";
import { policyApi } from "./policy-api.ts";

/** How long a block request waits for the agent's first sync before answering 503. */
const SYNC_WAIT_MS = 3000;

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const failure = (status: number, code: ErrorCode, message: string, hint?: string): Response =>
  json(status, { code, message, ...(hint ? { hint } : {}) } satisfies AgentErrorBody);

function parseBlockRequest(body: unknown): BlockRequest {
  const b = body as Partial<BlockRequest> | null;
  if (typeof b !== "object" || b === null || typeof b.network !== "string" || b.network === "") {
    throw new TartanError("agent-bad-request", 'body must be {"network": NAME, "family"?: 4|6}');
  }
  if (b.family !== undefined && b.family !== 4 && b.family !== 6) {
    throw new TartanError("agent-bad-request", `family must be 4 or 6, got ${JSON.stringify(b.family)}`);
  }
  return { network: b.network, ...(b.family ? { family: b.family } : {}) };
}

/**
 * The agent's local API (its unix socket; see model/agent-api.ts):
 *   POST /v1/blocks  {network, family?}  → 200 {blocks, claimed?} | 4xx/5xx {code, message, hint}
 *   GET  /v1/healthz                    → 200 once synced (AgentHealth: can the node give addresses), else 503
 *   GET  /v1/status                     → sync state, Nodes known, this node's blocks, policy summary, every Node's readiness (0014)
 *   GET  /v1/node/status                → this node's health for `tartan status` (NodeStatusReport)
 *   GET  /v1/log?lines=N                → the agent's last log lines (when it keeps a LogRing)
 *   GET  /metrics                       → the same text as the metrics listener
 *   GET  /v1/bgp                        → this node's BIRD sessions, routes and verdict (bgp backends)
 *   /v1/pods, /v1/policy, /v1/policy/drops → policy-api.ts
 *   GET  /v1/drops[?follow=1]          → drops-api.ts (drops with names, recent or live)
 *   /v1/ipam, /v1/ipam/release      → ipam-api.ts
 */
export function agentApi(agent: Agent, logRing?: LogRing): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === AGENT_NODE_STATUS_PATH && req.method === "GET") return json(200, await nodeStatus(agent));
    if (path === AGENT_LOG_PATH && req.method === "GET") {
      const n = Math.min(5000, Math.max(1, Number(url.searchParams.get("lines") ?? 200) || 200));
      return json(200, { lines: logRing?.tail(n) ?? [] });
    }
    if (path === AGENT_HEALTH_PATH && req.method === "GET") {
      const health: AgentHealth = { ok: true, network: agent.networkCondition() };
      return agent.synced ? json(200, health) : failure(503, "agent-not-synced", "first sync not done yet");
    }
    if (path === "/metrics" && req.method === "GET") return metricsApi(agent)(req);
    const dropsAnswer = dropsApi(agent, req, path);
    if (dropsAnswer) return dropsAnswer;
    const policyAnswer = await policyApi(agent, req);
    if (policyAnswer) return policyAnswer;
    const ipamAnswer = await ipamApi(agent, req);
    if (ipamAnswer) return ipamAnswer;
    if (path === "/v1/status" && req.method === "GET") {
      return json(200, {
        synced: agent.synced,
        nodes: agent.nodes.items.size,
        blocks: agent.nodeBlocks.owned().map((b) => b.spec.cidr),
        rejected: agent.rejectedObjects().map((r) => ({ kind: r.kind, object: r.key })),
        ...(agent.policy ? { policy: policySummary(agent.policy.current()) } : {}),
        clusterNodes: clusterNodes(agent, await recentHeartbeats(agent)),
        // Kubernetes mode publishes it as the Node condition NetworkUnavailable (decision 0015).
        network: agent.networkCondition(),
      });
    }
    if (path === AGENT_BGP_PATH && req.method === "GET") {
      const bgp = agent.managers.find((m) => m instanceof BgpManager);
      if (!bgp) {
        return failure(
          404,
          "bgp-off",
          `node ${agent.nodeName} does not run BGP (its backend is not bgp or bgp-cross-subnet)`,
          "set backend: bgp in the agent config; see docs/bgp.md",
        );
      }
      try {
        return json(200, await bgp.status());
      } catch (e) {
        if (e instanceof TartanError) return failure(503, e.code, e.message, e.hint);
        return failure(500, "agent-internal", errorFields(e).error);
      }
    }
    if (path === AGENT_BLOCKS_PATH && req.method === "POST") {
      let br: BlockRequest;
      try {
        br = parseBlockRequest(await req.json().catch(() => null));
      } catch (e) {
        return failure(400, "agent-bad-request", errorFields(e).error);
      }
      if (!(await agent.waitSynced(SYNC_WAIT_MS))) {
        return failure(
          503,
          "agent-not-synced",
          "the agent has not finished its first datastore sync",
          "retry shortly; if it persists, check the agent's log for datastore errors",
        );
      }
      try {
        return json(200, await agent.nodeBlocks.claimFor(br));
      } catch (e) {
        if (e instanceof TartanError) {
          const status = e.code.startsWith("datastore-") ? 503 : e.code === "agent-wrong-network" ? 400 : 409;
          return failure(status, e.code, e.message, e.hint);
        }
        return failure(500, "agent-internal", errorFields(e).error);
      }
    }
    return failure(404, "agent-not-found", `no ${req.method} ${path}`);
  };
}

const HEARTBEATS_FRESH_MS = 5_000;
const heartbeatReads = new WeakMap<
  Agent,
  { at: number; beats: Promise<Map<string, NodeHeartbeatSeen> | undefined> }
>();

/**
 * The heartbeat leases for /v1/status, listed at most every 5 s whatever the rate of asking (the
 * web view and `tartan status` of a lab ask every agent): no agent watches them (decision 0026).
 */
function recentHeartbeats(agent: Agent): Promise<Map<string, NodeHeartbeatSeen> | undefined> {
  const last = heartbeatReads.get(agent);
  if (last && performance.now() - last.at < HEARTBEATS_FRESH_MS) return last.beats;
  const beats = readHeartbeats(agent.datastore).catch(() => undefined);
  heartbeatReads.set(agent, { at: performance.now(), beats });
  return beats;
}

/** Every Node this agent mirrors, with the reclaimer's readiness (decision 0014) and its blocks. */
const clusterNodes = (agent: Agent, beats: Map<string, NodeHeartbeatSeen> | undefined): ClusterNodeStatus[] =>
  [...agent.nodes.items.values()]
    .map((n) => {
      const heartbeat = latestTime(beats?.get(n.metadata.name)?.renewTime, n.status?.heartbeat);
      return {
        name: n.metadata.name,
        underlayAddress: n.spec.underlayAddress,
        ready: !markedNotReady(n),
        ...(readyCondition(n) ? { readyReason: readyCondition(n)!.reason } : {}),
        ...(heartbeat ? { heartbeat } : {}),
        blocks: [...agent.blocks.items.values()]
          .filter((b) => b.spec.node === n.metadata.name)
          .map((b) => b.spec.cidr)
          .sort(),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));

const policySummary = (ir: PolicyIR) => ({
  policies: ir.policies.total,
  isolatedPods: ir.pods.length,
  problems: ir.problems.length,
});

/**
 * The metrics listener (host:port, the DaemonSet's probes): GET /healthz and /readyz are 200 once
 * the first sync is done, else 503 (readiness); GET /livez is 200 while the process serves at all
 * (liveness: a slow first sync, e.g. an unreachable API server, must not get the agent restarted
 * in a loop); GET /metrics.
 */
export function metricsApi(agent: Agent): (req: Request) => Response {
  return (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/healthz" || path === "/readyz") {
      return new Response(agent.synced ? "ok\n" : "not synced\n", { status: agent.synced ? 200 : 503 });
    }
    if (path === "/livez") return new Response("ok\n");
    if (path === "/metrics") {
      return new Response(agent.metrics.render() + (agent.policy?.metrics.render() ?? ""), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    return new Response("not found\n", { status: 404 });
  };
}
