import type { Datastore } from "../datastore/datastore.ts";
import { isConflictOrGone } from "../datastore/datastore-error.ts";
import { forgetNode } from "../ipam/forget-node.ts";
import {
  KINDS,
  type LeaseResource,
  type NodeCondition,
  type NodeResource,
} from "../model/cluster-resources.ts";
import { agentWritesPodStatus } from "./agent-config.ts";
import { type AgentLog, errorFields } from "./agent-log.ts";
import type { AgentMetrics } from "./agent-metrics.ts";
import type { AgentTimers } from "./agent-timers.ts";
import { DatastoreLease } from "./datastore-lease.ts";
import { forgetNodePods } from "./forget-node-pods.ts";
import type { KindMirror } from "./kind-mirror.ts";
import type { Manager, ManagerFactory } from "./manager.ts";
import { heartbeatLeaseName, type NodeHeartbeatSeen, readHeartbeats } from "./node-heartbeat.ts";
import type { ProbeOutcome, UnderlayProbe } from "./underlay-probe.ts";

/** The lease's name in the datastore: one reclaimer per cluster. */
export const NODE_RECLAIMER_LEASE = "node-reclaimer";

export interface NodeReclaimerOptions {
  ds: Datastore;
  /** This agent's node (never judged by itself). */
  nodeName: string;
  nodes: KindMirror<NodeResource>;
  notReadyAfterMs: number;
  /** 0: never reclaim, only mark. */
  reclaimAfterMs: number;
  probe: UnderlayProbe;
  /** Whether a reclaimed node's Pods give their addresses up (default true; false in Kubernetes mode, where Pod status is kubelet's: decision 0015). */
  writePods?: boolean;
  now: () => number;
  timers: AgentTimers;
  log: AgentLog;
  metrics: AgentMetrics;
}

/** What the reclaimer has seen of one node's heartbeat, on its own clock. */
interface Seen {
  /** heartbeatOf: the lease's version and the Node's heartbeat. */
  heartbeat: string;
  /** Local time the heartbeat was first seen with this value. */
  at: number;
  /** The probe outcome a spare was last logged for (log once per silence, not every tick). */
  spared?: ProbeOutcome;
}

/**
 * What the reclaimer compares from tick to tick: the heartbeat lease's version (node-heartbeat.ts)
 * and the Node's own heartbeat (written at registration, and by agents from before the leases, so
 * a cluster upgraded node by node is judged right on both).
 */
const heartbeatOf = (beat: NodeHeartbeatSeen | undefined, node: NodeResource): string =>
  `${beat?.version ?? "-"}/${node.status?.heartbeat ?? "-"}`;

/** The Ready condition the reclaimer wrote, if any. */
export const readyCondition = (n: NodeResource): NodeCondition | undefined =>
  n.status?.conditions?.find((c) => c.type === "Ready");

/** Marked not ready by the reclaimer (the node's own `ready` does not count: a dead node cannot unset it). */
export const markedNotReady = (n: NodeResource): boolean => {
  const c = readyCondition(n);
  return c !== undefined && c.status !== "True";
};

/**
 * Notices dead nodes and gives their addresses back (decision 0014). Runs in every agent; acts in
 * the one holding the `node-reclaimer` lease. It judges heartbeats by when it saw them change on
 * its own clock (Kubernetes' node lifecycle controller does the same), never by comparing the
 * writer's clock with its own, and a new holder starts every node's count afresh:
 * - heartbeat unchanged for `notReadyAfterMs`: the Node gets `Ready=Unknown, HeartbeatStale`
 *   (a condition in its status, written with CAS; lifted when the heartbeat moves again);
 * - unchanged for `reclaimAfterMs` AND the node does not answer on the underlay (`probe`): its
 *   IPAMBlocks and its Node are deleted (`forgetNode`, the Node only at the version judged), so
 *   every other agent's routing manager removes its routes, neighbour and FDB entries and the
 *   addresses return to the pool. A node that answers (partitioned from the datastore, or its
 *   agent dead while its pods run) is spared, counted and logged once.
 * A Manager only to share the agent's life cycle (started after the first full sync, stopped with
 * it); it programs no kernel object.
 */
/** The lease: long enough to survive a slow datastore round trip, short against the not-ready grace. */
const leaseMsFor = (notReadyAfterMs: number): number =>
  Math.min(60_000, Math.max(5_000, notReadyAfterMs / 3));

export class NodeReclaimer implements Manager {
  readonly name = "node-reclaimer";
  readonly mirrors: readonly KindMirror[] = [];
  readonly inSync = true;
  private readonly lease: DatastoreLease;
  private readonly seen = new Map<string, Seen>();
  /** Heartbeat leases without a Node: their version and when it was first seen (local clock). */
  private readonly orphans = new Map<string, { version: string; at: number }>();
  /** Reclaimed nodes whose Pods still carry addresses (a failed cleanup is retried every tick). */
  private readonly podCleanup = new Set<string>();
  private interval: unknown;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: NodeReclaimerOptions) {
    const leaseMs = leaseMsFor(o.notReadyAfterMs);
    this.lease = new DatastoreLease({
      ds: o.ds,
      name: NODE_RECLAIMER_LEASE,
      holder: o.nodeName,
      durationMs: leaseMs,
      now: o.now,
    });
  }

  /** How often the lease is renewed and the heartbeats looked at. */
  get tickMs(): number {
    return leaseMsFor(this.o.notReadyAfterMs) / 3;
  }

  get leader(): boolean {
    return this.lease.held;
  }

  onUpdate(): void {}

  /** The agent's first apply (after the first full sync) starts the ticks; later applies do nothing. */
  async apply(): Promise<undefined> {
    if (this.interval === undefined && !this.stopped) {
      this.interval = this.o.timers.setInterval(() => void this.tick(), this.tickMs);
    }
    return undefined;
  }

  resync(): void {}

  /** One look: hold the lease, then judge every node. Ticks never overlap. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.judgeAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.interval !== undefined) this.o.timers.clearInterval(this.interval);
    await this.running;
    await this.lease.release().catch(() => {});
    this.o.metrics.reclaimerLeader = false;
  }

  private async judgeAll(): Promise<void> {
    const { metrics, log } = this.o;
    const wasLeader = metrics.reclaimerLeader;
    let leader = false;
    try {
      leader = await this.lease.hold();
    } catch (e) {
      metrics.datastoreError("lease");
      log("warn", "node reclaimer lease renewal failed; not judging nodes", errorFields(e));
    }
    metrics.reclaimerLeader = leader;
    if (leader !== wasLeader)
      log("info", leader ? "node reclaimer lease taken" : "node reclaimer lease lost");
    if (!leader) {
      // A later term starts every node's count afresh: no mark from a stale memory.
      this.seen.clear();
      metrics.nodesNotReady = 0;
      return;
    }
    if (!this.o.nodes.live) {
      // The mirror is not following the datastore: heartbeats may be moving unseen. Judge nothing,
      // and count afresh once it is live again.
      this.seen.clear();
      return;
    }
    for (const name of [...this.podCleanup]) await this.cleanPods(name);
    let beats: Map<string, NodeHeartbeatSeen>;
    try {
      beats = await readHeartbeats(this.o.ds);
    } catch (e) {
      metrics.datastoreError("heartbeats");
      log("warn", "reading the nodes' heartbeat leases failed; not judging nodes", errorFields(e));
      return;
    }
    const now = this.o.now();
    await this.dropOrphanHeartbeats(beats, now);
    for (const name of this.seen.keys()) if (!this.o.nodes.items.has(name)) this.seen.delete(name);
    let notReady = 0;
    for (const node of [...this.o.nodes.items.values()]) {
      if (this.stopped || !this.lease.held) return;
      const name = node.metadata.name;
      if (name === this.o.nodeName) continue;
      const heartbeat = heartbeatOf(beats.get(name), node);
      const s = this.seen.get(name);
      if (!s || s.heartbeat !== heartbeat) {
        this.seen.set(name, { heartbeat, at: now });
        // A mark is lifted only on evidence: the heartbeat moved while this agent watched.
        if (s && markedNotReady(node)) await this.mark(node, "True", "HeartbeatResumed", 0);
        else if (markedNotReady(node)) notReady++;
        continue;
      }
      const silentMs = now - s.at;
      if (silentMs < this.o.notReadyAfterMs) {
        if (markedNotReady(node)) notReady++;
        continue;
      }
      notReady++;
      if (!markedNotReady(node)) await this.mark(node, "Unknown", "HeartbeatStale", silentMs);
      if (this.o.reclaimAfterMs > 0 && silentMs >= this.o.reclaimAfterMs) {
        if (await this.reclaim(node, s, silentMs)) notReady--;
      }
    }
    metrics.nodesNotReady = notReady;
  }

  /** Writes the Ready condition (CAS on the version mirrored; a conflict waits for the next tick). */
  private async mark(node: NodeResource, status: NodeCondition["status"], reason: string, silentMs: number) {
    const condition: NodeCondition = {
      type: "Ready",
      status,
      reason,
      message:
        status === "True"
          ? "heartbeat moved again"
          : `no heartbeat seen for ${Math.round(silentMs / 1000)} s (by ${this.o.nodeName})`,
      lastTransitionTime: new Date(this.o.now()).toISOString(),
      by: this.o.nodeName,
    };
    const conditions = [...(node.status?.conditions ?? []).filter((c) => c.type !== "Ready"), condition];
    try {
      const written = (await this.o.ds.update({
        ...node,
        status: { ...node.status, conditions },
      })) as NodeResource;
      this.o.nodes.observe(written);
      if (status === "True") this.o.metrics.nodeReadyMarks++;
      else this.o.metrics.nodeNotReadyMarks++;
      this.o.log(
        status === "True" ? "info" : "warn",
        status === "True" ? "node ready again" : "node not ready",
        {
          node: node.metadata.name,
          reason,
          silentSeconds: Math.round(silentMs / 1000),
        },
      );
    } catch (e) {
      if (!isConflictOrGone(e)) {
        this.o.metrics.datastoreError("node-mark");
        this.o.log("warn", "could not mark node; next tick retries", {
          node: node.metadata.name,
          ...errorFields(e),
        });
      }
    }
  }

  /**
   * Heartbeat leases of nodes that are gone (deleted by hand, or reclaimed before the lease could
   * be removed) are deleted once unchanged for the reclaim grace: a node that comes back renews
   * its lease and registers again, so nothing is lost; the datastore does not fill with leases
   * of nodes an autoscaler removed.
   */
  private async dropOrphanHeartbeats(beats: Map<string, NodeHeartbeatSeen>, now: number): Promise<void> {
    const graceMs = Math.max(this.o.reclaimAfterMs, this.o.notReadyAfterMs);
    for (const name of this.orphans.keys()) if (!beats.has(name)) this.orphans.delete(name);
    for (const [name, beat] of beats) {
      if (this.o.nodes.items.has(name)) {
        this.orphans.delete(name);
        continue;
      }
      const seen = this.orphans.get(name);
      if (!seen || seen.version !== beat.version) {
        this.orphans.set(name, { version: beat.version, at: now });
      } else if (now - seen.at >= graceMs) {
        const lease = (await this.o.ds.get(KINDS.lease, heartbeatLeaseName(name))) as
          | LeaseResource
          | undefined;
        if (lease?.metadata.resourceVersion === beat.version) await this.deleteLease(lease);
        this.orphans.delete(name);
      }
    }
  }

  private async deleteLease(lease: LeaseResource): Promise<void> {
    await this.o.ds
      .delete(KINDS.lease, lease.metadata.name, undefined, lease.metadata.resourceVersion)
      .catch((e) => {
        if (isConflictOrGone(e)) return;
        this.o.metrics.datastoreError("heartbeat-delete");
        this.o.log("warn", "could not delete a gone node's heartbeat lease; a later tick retries", {
          lease: lease.metadata.name,
          ...errorFields(e),
        });
      });
  }

  /** The reclaimed node's Pods give their addresses up (forget-node-pods.ts). */
  private async cleanPods(node: string): Promise<void> {
    try {
      const pods = await forgetNodePods(this.o.ds, node);
      this.podCleanup.delete(node);
      if (pods.length > 0)
        this.o.log("info", "pods of the reclaimed node gave their addresses up", { node, pods });
    } catch (e) {
      this.o.metrics.datastoreError("node-reclaim-pods");
      this.o.log("warn", "clearing the reclaimed node's pods failed; next tick retries", {
        node,
        ...errorFields(e),
      });
    }
  }

  /** Answers whether the node was reclaimed. */
  private async reclaim(node: NodeResource, s: Seen, silentMs: number): Promise<boolean> {
    const name = node.metadata.name;
    const address = node.spec.underlayAddress;
    const outcome = await this.o.probe(address);
    if (outcome !== "silent") {
      if (s.spared !== outcome) {
        s.spared = outcome;
        this.o.metrics.nodeReclaimsSpared++;
        this.o.log(
          "warn",
          outcome === "answers"
            ? "node silent in the datastore but answers on the underlay: its blocks are kept"
            : "node silent in the datastore, and the underlay probe could not run: its blocks are kept",
          { node: name, underlay: address, probe: outcome, silentSeconds: Math.round(silentMs / 1000) },
        );
      }
      return false;
    }
    if (this.stopped || !this.lease.held) return false;
    // Judge the version the decision was made on: a heartbeat written meanwhile cancels it.
    const cur = (await this.o.ds.get(KINDS.node, name)) as NodeResource | undefined;
    const lease = (await this.o.ds.get(KINDS.lease, heartbeatLeaseName(name))) as LeaseResource | undefined;
    const beat = lease && { renewTime: lease.spec.renewTime, version: lease.metadata.resourceVersion ?? "" };
    if (!cur || heartbeatOf(beat, cur) !== s.heartbeat) return false;
    try {
      const r = await forgetNode(this.o.ds, name, { nodeResourceVersion: cur.metadata.resourceVersion });
      this.seen.delete(name);
      if (lease) await this.deleteLease(lease);
      this.o.metrics.nodeReclaims++;
      this.o.metrics.nodeReclaimedBlocks += r.blocks.length;
      this.o.log("warn", "dead node reclaimed: its blocks and Node were removed", {
        node: name,
        underlay: address,
        blocks: r.blocks,
        nodeDeleted: r.nodeDeleted,
        silentSeconds: Math.round(silentMs / 1000),
      });
      if (this.o.writePods !== false) {
        this.podCleanup.add(name);
        await this.cleanPods(name);
      }
      return true;
    } catch (e) {
      this.o.metrics.datastoreError("node-reclaim");
      this.o.log("warn", "node reclaim failed; next tick retries", { node: name, ...errorFields(e) });
      return false;
    }
  }
}

/** The wiring's line: the probe (ping in main.ts, a fake in tests) and the clock. */
export const nodeReclaimer =
  (p: { probe: UnderlayProbe; now?: () => number }): ManagerFactory =>
  (ctx) =>
    new NodeReclaimer({
      ds: ctx.ds,
      nodeName: ctx.config.nodeName,
      nodes: ctx.nodes,
      notReadyAfterMs: ctx.config.nodeNotReadyAfterSeconds * 1000,
      reclaimAfterMs: ctx.config.nodeReclaimAfterSeconds * 1000,
      probe: p.probe,
      writePods: agentWritesPodStatus(ctx.config),
      now: p.now ?? Date.now,
      timers: ctx.timers,
      log: ctx.log,
      metrics: ctx.metrics,
    });
