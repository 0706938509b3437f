import type { ErrorCode } from "../errors/error-code.ts";
import { TartanError } from "../errors/tartan-error.ts";
import {
  AGENT_PODS_PATH,
  AGENT_POLICY_DROPS_PATH,
  AGENT_POLICY_PATH,
  type PodJoinRequest,
  type PodJoinResponse,
  type PolicyDropRow,
} from "../model/agent-api.ts";
import { parseIp } from "../model/ip.ts";
import type { PodResource } from "../model/k8s-resources.ts";
import { TARTAN_TABLE } from "../render/masquerade-nft.ts";
import { parseDropCounters } from "../render/policy-kernel-state.ts";
import type { Agent } from "./agent.ts";
import { errorFields } from "./agent-log.ts";
import type { RejectedObject } from "./kind-mirror.ts";
import { PendingPodIps } from "./pending-pod-ips.ts";
import { clearPodIps, recordPodIps } from "./pod-ips.ts";

/** How long a joining pod waits for its rules; below the plugin's own 5 s so the agent answers first. */
const APPLY_WAIT_MS = 4000;
const SYNC_WAIT_MS = 3000;

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const failure = (status: number, code: ErrorCode, message: string, hint?: string): Response =>
  json(status, { code, message, ...(hint ? { hint } : {}) });

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const rejectionText = (r: RejectedObject): string =>
  r.errors.map((e) => (e.field ? `${e.field}: ${e.reason}` : e.reason)).join("; ");

/** Per agent: joins whose IPs wait for the datastore to come back. */
const pendingOf = new WeakMap<Agent, PendingPodIps>();
function pending(agent: Agent): PendingPodIps {
  let p = pendingOf.get(agent);
  if (!p) {
    p = new PendingPodIps(
      agent.datastore,
      agent.nodeName,
      (stored) => {
        agent.policy?.pods.observe(stored);
        agent.policy?.onUpdate();
      },
      agent.log,
    );
    pendingOf.set(agent, p);
  }
  return p;
}

/**
 * Kubernetes mode, CNI DEL: the sandbox's IPs leave the local overlay (unless a newer sandbox
 * owns them); the mirror's Pod keeps what the API says (kubelet's IPs, if it wrote them).
 */
function forgetLocalIps(agent: Agent, pr: PodJoinRequest): void {
  const policy = agent.policy;
  const key = `${pr.namespace}/${pr.name}`;
  const local = policy?.localPodIps.get(key);
  if (!policy || !local || local.containerId !== pr.containerId) return;
  policy.localPodIps.delete(key);
  const known = policy.pods.items.get(key);
  const ips = known?.status?.podIPs?.map((x) => x.ip) ?? [];
  if (known && ips.length > 0 && ips.join() === local.ips.join()) {
    policy.pods.observe({ ...known, status: { ...known.status, podIPs: [] } });
    policy.onUpdate();
  }
}

const unavailable = (e: unknown) => e instanceof TartanError && e.code === "datastore-unavailable";

function parseJoin(body: unknown, needIps: boolean): PodJoinRequest {
  const b = (body ?? {}) as Partial<PodJoinRequest>;
  const bad = (why: string) => new TartanError("agent-bad-request", `pod request: ${why}`);
  if (typeof b.namespace !== "string" || !NAME.test(b.namespace)) throw bad("namespace must be a DNS label");
  if (typeof b.name !== "string" || !NAME.test(b.name)) throw bad("name must be a DNS-1123 name");
  if (typeof b.containerId !== "string" || b.containerId === "") throw bad("containerId is required");
  const ips = Array.isArray(b.ips) ? b.ips : [];
  for (const ip of ips) parseIp(String(ip), "ips");
  if (needIps && ips.length === 0) throw bad("ips must list the pod's addresses");
  return { namespace: b.namespace, name: b.name, containerId: b.containerId, ips: ips.map(String) };
}

/**
 * The policy part of the agent's socket API, or undefined when the path is not one of its own:
 *   POST   /v1/pods {namespace, name, containerId, ips} → records the IPs on the Pod, answers once
 *          the pod's policy rules are in the kernel (fail-closed ADD): 200 PodJoinResponse | 503
 *   DELETE /v1/pods {namespace, name, containerId}      → the sandbox's IPs are gone
 *   GET    /v1/policy                                   → isolated pods, problems, counts
 *   GET    /v1/policy/drops                             → per pod and direction drop counters
 */
export async function policyApi(agent: Agent, req: Request): Promise<Response | undefined> {
  const path = new URL(req.url).pathname;
  const policy = agent.policy;
  if (path === AGENT_PODS_PATH && (req.method === "POST" || req.method === "DELETE")) {
    let pr: PodJoinRequest;
    try {
      pr = parseJoin(await req.json().catch(() => null), req.method === "POST");
    } catch (e) {
      return failure(400, "agent-bad-request", errorFields(e).error);
    }
    if (!(await agent.waitSynced(SYNC_WAIT_MS))) {
      return failure(503, "agent-not-synced", "the agent has not finished its first datastore sync");
    }
    try {
      const ds = agent.datastore;
      if (req.method === "DELETE" && !agent.writesPodStatus) {
        forgetLocalIps(agent, pr);
        return json(200, { ok: true });
      }
      if (req.method === "DELETE") {
        pendingOf.get(agent)?.drop(pr.namespace, pr.name);
        const after = await clearPodIps(ds, pr);
        if (after) policy?.pods.observe(after);
        else policy?.pods.forget(`${pr.namespace}/${pr.name}`);
        policy?.onUpdate();
        return json(200, { ok: true });
      }
      let stored: PodResource;
      try {
        if (!agent.writesPodStatus) {
          // Kubernetes mode: kubelet writes the IPs from the CNI result; until then they are local.
          policy?.localPodIps.set(`${pr.namespace}/${pr.name}`, { containerId: pr.containerId, ips: pr.ips });
          stored = pending(agent).local(policy?.pods.items.get(`${pr.namespace}/${pr.name}`), pr);
        } else stored = await recordPodIps(ds, agent.nodeName, pr);
      } catch (e) {
        // The datastore is away: the pod starts from what the agent knows (its rules are
        // computed from the mirrors), and its IPs are written once the datastore is back.
        if (!unavailable(e)) throw e;
        const p = pending(agent);
        stored = p.local(policy?.pods.items.get(`${pr.namespace}/${pr.name}`), pr);
        p.add(pr);
      }
      if (!policy)
        return json(200, { ingress: false, egress: false, policies: [] } satisfies PodJoinResponse);
      policy.pods.observe(stored);
      policy.onUpdate();
      const rejected = policy.pods.rejected.get(`${pr.namespace}/${pr.name}`);
      if (rejected) {
        // Fail closed: the stored Pod (written around `tartan apply`) cannot be enforced on.
        return failure(
          503,
          "policy-not-applied",
          `the Pod object ${pr.namespace}/${pr.name} in the datastore is invalid (${rejectionText(rejected)}): its policy cannot be enforced`,
          "fix or delete the Pod object; `tartan policy status` lists rejected objects",
        );
      }
      const view = policy.current().pods.find((p) => p.namespace === pr.namespace && p.name === pr.name);
      const answer: PodJoinResponse = {
        ingress: Boolean(view?.ingress),
        egress: Boolean(view?.egress),
        policies: [...new Set([...(view?.ingress?.policies ?? []), ...(view?.egress?.policies ?? [])])],
      };
      // A pod no policy selects has nothing to wait for; its IP reaches peers' sets shortly after.
      if (!view) return json(200, answer);
      if (!(await policy.waitApplied(APPLY_WAIT_MS))) {
        return failure(
          503,
          "policy-not-applied",
          `the policy rules of ${pr.namespace}/${pr.name} are not in the kernel after ${APPLY_WAIT_MS} ms`,
          "see the agent's log (policy apply failed) and `tartan policy status`",
        );
      }
      return json(200, answer);
    } catch (e) {
      if (e instanceof TartanError) {
        return failure(e.code.startsWith("datastore-") ? 503 : 500, e.code, e.message, e.hint);
      }
      return failure(500, "agent-internal", errorFields(e).error);
    }
  }
  if (!path.startsWith(AGENT_POLICY_PATH) || req.method !== "GET") return undefined;
  if (!policy) return failure(404, "policy-off", "this agent does not enforce NetworkPolicy");
  const ir = policy.current();
  if (path === AGENT_POLICY_PATH) {
    return json(200, {
      node: agent.nodeName,
      policies: ir.policies,
      pods: ir.pods,
      problems: [
        ...ir.problems,
        ...agent.rejectedObjects().map((r) => ({
          object: r.key,
          kind: r.kind,
          code: "object-rejected",
          message: `${r.kind} rejected, treated as absent: ${rejectionText(r)}`,
        })),
      ],
      sets: ir.sets.size,
      setElements: [...ir.sets.values()].reduce((n, s) => n + s.elements.length, 0),
    });
  }
  if (path === AGENT_POLICY_DROPS_PATH) {
    try {
      const counters = new Map(parseDropCounters(await policy.listKernel()).map((c) => [c.name, c] as const));
      const rows: PolicyDropRow[] = ir.pods.flatMap((p) =>
        (["ingress", "egress"] as const).flatMap((dir) => {
          const v = p[dir];
          if (!v) return [];
          const c = counters.get(v.counter);
          return [
            {
              namespace: p.namespace,
              pod: p.name,
              direction: dir,
              packets: c?.packets ?? 0,
              bytes: c?.bytes ?? 0,
              policies: v.policies,
            },
          ];
        }),
      );
      return json(200, { node: agent.nodeName, table: `inet ${TARTAN_TABLE}`, drops: rows });
    } catch (e) {
      return failure(500, "nft-list-failed", errorFields(e).error);
    }
  }
  return failure(404, "agent-not-found", `no GET ${path}`);
}
