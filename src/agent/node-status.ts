import pkg from "../../package.json" with { type: "json" };
import type { DatastoreHealth, ManagerApply, NodeStatusReport } from "../model/agent-api.ts";
import type { Agent } from "./agent.ts";
import { errorFields } from "./agent-log.ts";
import type { KindMirror } from "./kind-mirror.ts";
import { mirrorKey } from "./kind-mirror.ts";
import { markedNotReady, readyCondition } from "./node-reclaimer.ts";
import { RoutingManager } from "./routing-manager.ts";

/** How long the datastore check may take before the datastore counts as unreachable. */
export const DATASTORE_CHECK_MS = 2000;
/** A mirror behind the datastore gets this long to catch up (events in flight) before it counts. */
const CATCH_UP_MS = 300;

const timeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms),
    ),
  ]);

/** Objects whose resourceVersion differs between the datastore's list and the mirror. */
async function behindOf(agent: Agent, mirrors: readonly KindMirror[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  await Promise.all(
    mirrors.map(async (m) => {
      const { items } = await agent.datastore.list(m.kind);
      let n = 0;
      const seen = new Set<string>();
      for (const o of items) {
        const key = mirrorKey(o);
        seen.add(key);
        if (m.rejected.has(key)) continue;
        if (m.items.get(key)?.metadata.resourceVersion !== o.metadata.resourceVersion) n++;
      }
      for (const key of m.items.keys()) if (!seen.has(key)) n++;
      if (n > 0) out[m.kind] = (out[m.kind] ?? 0) + n;
    }),
  );
  return out;
}

/**
 * Whether the datastore answers, and how far behind it the agent's watches are: every mirrored
 * kind is listed and compared with the mirror by key and resourceVersion (a lagging watch shows
 * as objects the mirror has at another version, or lacks). A difference gets one short grace for
 * events in flight. Bounded: past `ms` the datastore is reported unreachable, never waited for.
 */
export async function datastoreHealth(agent: Agent, ms = DATASTORE_CHECK_MS): Promise<DatastoreHealth> {
  const mirrors = [agent.nodes, agent.blocks, ...agent.managers.flatMap((m) => m.mirrors)];
  const t0 = performance.now();
  try {
    let behind = await timeout(behindOf(agent, mirrors), ms, "listing the datastore");
    const latencyMs = Math.round(performance.now() - t0);
    if (Object.keys(behind).length > 0) {
      await new Promise((r) => setTimeout(r, CATCH_UP_MS));
      behind = await timeout(behindOf(agent, mirrors), ms, "listing the datastore");
    }
    const total = Object.values(behind).reduce((a, b) => a + b, 0);
    return { reachable: true, latencyMs, behind: total, ...(total > 0 ? { behindKinds: behind } : {}) };
  } catch (e) {
    return { reachable: false, error: errorFields(e).error };
  }
}

/** GET /v1/node/status: everything `tartan status` shows for this node, from the agent's memory and one kernel read. */
export async function nodeStatus(agent: Agent): Promise<NodeStatusReport> {
  const now = Date.now();
  const mirrors = [agent.nodes, agent.blocks, ...agent.managers.flatMap((m) => m.mirrors)];
  const notLive = [...new Set(mirrors.filter((m) => !m.live).map((m) => m.kind))];
  const since = Math.max(...mirrors.map((m) => m.liveSince ?? 0));
  const routing = agent.managers.find((m): m is RoutingManager => m instanceof RoutingManager);
  const [datastore, inspected] = await Promise.all([
    datastoreHealth(agent),
    agent.synced && routing
      ? routing
          .inspect()
          .catch((e) => ({ peers: [], local: [`reading the kernel failed: ${errorFields(e).error}`] }))
      : Promise.resolve(undefined),
  ]);
  const lastApply: ManagerApply[] = [...agent.lastApply.values()].filter((a) => a.manager !== "policy");
  const policy = agent.policy;
  if (policy && (policy.metrics.lastApplyAt !== undefined || policy.metrics.lastError !== undefined)) {
    lastApply.push({
      manager: "policy",
      at: new Date(policy.metrics.lastApplyAt ?? now).toISOString(),
      durationMs: Math.round(policy.metrics.lastApplySeconds * 10000) / 10,
      changes: policy.metrics.lastDeltaChanges,
      errors: policy.metrics.applyErrors,
      ...(policy.metrics.lastError ? { error: policy.metrics.lastError } : {}),
    });
  }
  const ir = policy?.current();
  let addresses: number | undefined;
  try {
    const network = agent.config.network;
    addresses = agent.ipamStore.transaction((tx) => tx.allocations(network).length);
  } catch {}
  return {
    name: agent.nodeName,
    version: pkg.version,
    startedAt: new Date(agent.startedAt).toISOString(),
    uptimeSeconds: Math.round((now - agent.startedAt) / 1000),
    backend: agent.config.backend,
    synced: agent.synced,
    ...(notLive.length === 0 && since > 0 ? { inSyncSince: new Date(since).toISOString() } : {}),
    notLive,
    datastore,
    lastApply,
    // Programmed or not, a peer whose heartbeat went stale is worth a word (decision 0014).
    peers: (inspected?.peers ?? []).map((p) => {
      const n = agent.nodes.items.get(p.name);
      return n && markedNotReady(n) ? { ...p, notReady: readyCondition(n)?.reason ?? "NotReady" } : p;
    }),
    routingProblems:
      inspected?.local ?? (agent.synced ? [] : ["first sync not done: nothing programmed yet"]),
    ...(policy
      ? {
          pods: [...policy.pods.items.values()].filter((p) => p.spec.nodeName === agent.nodeName).length,
          isolatedPods: ir?.pods.length ?? 0,
        }
      : {}),
    ...(addresses !== undefined ? { addresses } : {}),
    unenforceable: [
      ...(ir?.problems ?? []).map((p) => ({ object: p.object, code: p.code, message: p.message })),
      ...agent.rejectedObjects().map((r) => ({
        object: `${r.kind} ${r.key}`,
        code: "object-rejected",
        message: r.errors.map((e) => (e.field ? `${e.field}: ${e.reason}` : e.reason)).join("; "),
      })),
    ],
    blocks: agent.nodeBlocks.owned().map((b) => b.spec.cidr),
  };
}
