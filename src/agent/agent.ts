import type { Datastore, NodeNetworkCondition } from "../datastore/datastore.ts";
import type { IpamStore } from "../datastore/ipam-store.ts";
import type { ManagerApply } from "../model/agent-api.ts";
import type { NodeBGPSpec } from "../model/bgp-resources.ts";
import {
  type IPAMBlockResource,
  KINDS,
  type NodeResource,
  type NodeSpec,
} from "../model/cluster-resources.ts";
import type { Resource } from "../model/resource.ts";
import { type AgentConfig, agentWritesPodStatus } from "./agent-config.ts";
import { type AgentLog, errorFields } from "./agent-log.ts";
import { AgentMetrics } from "./agent-metrics.ts";
import { type AgentTimers, realTimers } from "./agent-timers.ts";
import { backoffMs } from "./backoff.ts";
import { CoalescingTrigger } from "./coalescing-trigger.ts";
import type { Underlay } from "./kernel-port.ts";
import { KindMirror, type RejectedObject } from "./kind-mirror.ts";
import type { Manager, ManagerContext, ManagerFactory } from "./manager.ts";
import { NodeBlocks } from "./node-blocks.ts";
import { NodeHeartbeat } from "./node-heartbeat.ts";
import type { PolicyManager } from "./policy-manager.ts";
import { PolicyManagerAdapter } from "./policy-manager-adapter.ts";
import { nodeIsRegistered, registerNode } from "./register-node.ts";

export type { AgentTimers } from "./agent-timers.ts";

export interface AgentDeps {
  config: AgentConfig;
  ds: Datastore;
  store: IpamStore;
  underlay: Underlay;
  /** MAC of this node's VXLAN device, published in its Node for the peers' FDB entries. */
  vtepMac: string;
  /** This node's BGP settings, published as the Node's spec.bgp (the bgp backends). */
  nodeBgp?: NodeBGPSpec;
  log: AgentLog;
  /**
   * What programs the kernel, in order (decision 0010): built by the wiring, e.g. routing
   * (routing-manager.ts) and NetworkPolicy (policy-manager-adapter.ts).
   */
  managers: readonly ManagerFactory[];
  now?: () => number;
  timers?: AgentTimers;
}

const specChanged = (a: Resource | undefined, b: Resource | undefined): boolean =>
  JSON.stringify(a?.spec) !== JSON.stringify(b?.spec);

/**
 * The node agent: registers the node, claims its blocks, mirrors Nodes and IPAMBlocks (list +
 * watch), and has its managers (routing, policy; built by the wiring) keep the kernel at the
 * state calc derives from the datastore. The rules (felix's):
 * - nothing is written to the kernel before the first full sync (the agent's kinds and every
 *   manager's listed, own node registered, own blocks claimed): a half-known cluster would make
 *   the reconciler delete routes to peers it has not seen yet;
 * - watch events only mark work (each manager's cheap, synchronous onUpdate) and trigger a
 *   coalesced apply, one trigger per manager, so one manager never waits for another's apply;
 * - a periodic resync re-applies so drift (someone deleting our routes) is repaired;
 * - while the datastore is away the kernel stays as it is; the mirrors re-list when it is back;
 * - stop() leaves the kernel alone: a restarted agent diffs against it instead of flushing.
 */
export class Agent {
  readonly metrics = new AgentMetrics();
  readonly nodes: KindMirror<NodeResource>;
  readonly blocks: KindMirror<IPAMBlockResource>;
  readonly nodeBlocks: NodeBlocks;
  /** The managers, in the wiring's order, each with its own coalescing trigger. */
  readonly managers: readonly Manager[];
  /** True from the end of the first full sync on. */
  synced = false;
  /** When this agent was made (Date.now()), for its uptime. */
  readonly startedAt: number;
  /** The last apply of each manager that ran one, by manager name (tartan status). */
  readonly lastApply = new Map<string, ManagerApply>();
  private readonly appliers: CoalescingTrigger[];
  /** Copies the node's blocks from the IPAMBlock mirror into the local IPAM store (coalesced). */
  private readonly localBlocks: CoalescingTrigger;
  /** This node's block CIDRs as the last local-block sync saw them. */
  private ownedBlocks = new Set<string>();
  /** A resync asks for keepInUse even when no owned block went away. */
  private keepPending = false;
  private readonly timers: AgentTimers;
  private readonly now: () => number;
  private readonly intervals: unknown[] = [];
  private stopped = false;
  /** The node network condition last published (JSON), so an unchanged one is not written again. */
  private publishedCondition: string | undefined;
  private syncWaiters: (() => void)[] = [];
  private readonly spec: NodeSpec;
  private readonly heartbeatLease: NodeHeartbeat;

  constructor(private readonly d: AgentDeps) {
    this.timers = d.timers ?? realTimers;
    this.now = d.now ?? Date.now;
    this.startedAt = this.now();
    const mirrorOptions = (what: string) => ({
      onError: (e: unknown, phase: "list" | "watch") => {
        this.metrics.datastoreError(`${phase}-${what}`);
        d.log("warn", `datastore ${phase} of ${what} failed; keeping the kernel as it is and retrying`, {
          ...errorFields(e),
        });
      },
      onRejected: (r: RejectedObject) =>
        d.log("warn", "object rejected: treated as absent until a valid version is written", {
          kind: r.kind,
          object: r.key,
          ...(r.resourceVersion !== undefined ? { resourceVersion: r.resourceVersion } : {}),
          errors: r.errors.map((e) => (e.field ? `${e.field}: ${e.reason}` : e.reason)),
        }),
      setTimeout: this.timers.setTimeout,
      clearTimeout: this.timers.clearTimeout,
    });
    const own = (kind: string, what: string) => ({
      ...mirrorOptions(what),
      onChange: () => this.changed(kind),
      relevant: specChanged,
      // Also the agent's own writes (observe), which fire no onChange: the gauges stay exact.
      onItem: () => this.countItems(),
    });
    this.nodes = new KindMirror<NodeResource>(d.ds, KINDS.node, own(KINDS.node, "nodes"));
    this.heartbeatLease = new NodeHeartbeat(
      d.ds,
      d.config.nodeName,
      d.config.nodeNotReadyAfterSeconds * 1000,
      this.now,
    );
    this.blocks = new KindMirror<IPAMBlockResource>(d.ds, KINDS.ipamBlock, own(KINDS.ipamBlock, "blocks"));
    this.nodeBlocks = new NodeBlocks({
      ds: d.ds,
      store: d.store,
      blocks: this.blocks,
      pools: d.config.pools,
      nodeName: d.config.nodeName,
      network: d.config.network,
      graceMs: d.config.blockReleaseGraceSeconds * 1000,
      now: this.now,
      metrics: this.metrics,
      log: d.log,
      claims: d.config.ipam?.mode !== "node-podcidr",
      onOwnChange: () => this.changed(KINDS.ipamBlock),
    });
    const ctx: ManagerContext = {
      config: d.config,
      ds: d.ds,
      underlay: d.underlay,
      log: d.log,
      metrics: this.metrics,
      nodes: this.nodes,
      blocks: this.blocks,
      mirrorOptions,
      timers: this.timers,
    };
    this.managers = d.managers.map((build) => build(ctx));
    this.metrics.rejectedObjects = () => this.rejectedObjects();
    this.appliers = this.managers.map(
      (m) =>
        new CoalescingTrigger(
          () => this.applyManager(m),
          (e) =>
            d.log("error", "kernel apply failed; the next trigger or resync retries", {
              manager: m.name,
              ...errorFields(e),
            }),
          { settleMs: m.settleMs ?? 0 },
        ),
    );
    this.localBlocks = new CoalescingTrigger(
      async () => {
        if (!this.synced || this.stopped) return;
        // Blocks taken from under running pods come back (0014). keepInUse reads every local
        // allocation in a store transaction the plugin's ADDs wait for, so it runs only when one
        // of this node's blocks left the mirror, and on resync; not on every block event.
        const owned = new Set(this.nodeBlocks.owned().map((b) => b.spec.cidr));
        if (this.keepPending || [...this.ownedBlocks].some((c) => !owned.has(c))) {
          this.keepPending = false;
          await this.nodeBlocks.keepInUse();
        }
        this.ownedBlocks = new Set(this.nodeBlocks.owned().map((b) => b.spec.cidr));
        this.nodeBlocks.syncLocal();
      },
      (e) => d.log("error", "local block list update failed; the next change retries", errorFields(e)),
    );
    this.spec = {
      underlayAddress: d.underlay.address,
      underlaySubnet: d.underlay.subnet,
      vtepMac: d.vtepMac,
      ...(d.nodeBgp ? { bgp: d.nodeBgp } : {}),
    };
  }

  /**
   * Runs the start-up sequence, retrying datastore failures with backoff, and resolves after the
   * first full sync and first apply were started. Timers run from then on until stop().
   */
  async start(): Promise<void> {
    const { config, log } = this.d;
    log("info", "agent starting", {
      node: config.nodeName,
      backend: config.backend,
      underlay: this.d.underlay,
      network: config.network,
    });
    await this.retrying("register-node", () => this.register());
    await this.retrying("ensure-pools", () => this.nodeBlocks.ensurePools());
    await Promise.all([
      this.nodes.start(),
      this.blocks.start(),
      ...this.managers.flatMap((m) => m.mirrors.map((x) => x.start())),
    ]);
    while (!(this.nodes.synced && this.blocks.synced && this.managers.every((m) => m.inSync))) {
      if (this.stopped) return;
      await new Promise((r) => this.timers.setTimeout(() => r(undefined), 50));
    }
    await this.retrying("keep-blocks-in-use", () => this.nodeBlocks.keepInUse());
    await this.retrying("claim-blocks", () => this.nodeBlocks.ensureOnePerPool());
    if (this.stopped) return;
    this.synced = true;
    this.ownedBlocks = new Set(this.nodeBlocks.owned().map((b) => b.spec.cidr));
    this.metrics.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
    log("info", "first sync done", {
      nodes: this.nodes.items.size,
      blocks: this.nodeBlocks.owned().map((b) => b.spec.cidr),
    });
    if (config.ipam?.mode === "node-podcidr") {
      const outside = this.nodeBlocks.outsidePools(this.ownPodCidrs());
      if (outside.length)
        log("warn", "pod CIDRs in no configured pool: their traffic leaving the cluster is not masqueraded", {
          podCidrs: outside,
          hint: "set the agent config's pools to the cluster CIDR (the controller manager's --cluster-cidr)",
        });
    }
    for (const a of this.appliers) a.trigger();
    void this.publishNetworkCondition();
    const every = (seconds: number, fn: () => void) =>
      this.intervals.push(this.timers.setInterval(fn, Math.max(50, seconds * 1000)));
    every(config.resyncSeconds, () => this.resync());
    // The first lease renewal now: a reclaimer sees this node's lease without waiting a period.
    this.heartbeatLease.beat().catch((e) => log("warn", "heartbeat failed", errorFields(e)));
    every(config.heartbeatSeconds, () => void this.heartbeat());
    // Often enough that a block is released soon after its grace ends, rarely enough to be free.
    every(Math.min(30, Math.max(1, config.blockReleaseGraceSeconds / 4)), () => void this.releaseEmpty());
  }

  /** Resolves when the first sync is done (or after timeoutMs, with false). */
  waitSynced(timeoutMs: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = this.timers.setTimeout(() => resolve(false), timeoutMs);
      this.syncWaiters.push(() => {
        this.timers.clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** Re-applies the whole desired state: the reconciler reads the kernel again and repairs drift. */
  resync(): void {
    if (!this.synced) return;
    this.metrics.resyncs++;
    for (const m of this.managers) m.resync();
    this.keepPending = true;
    this.localBlocks.trigger();
    for (const a of this.appliers) a.trigger();
  }

  /**
   * Renews this node's heartbeat lease (node-heartbeat.ts: not the Node, which every agent
   * watches), and registers the Node again only when it is missing or differs from what this agent
   * would write (deleted by a reclaimer while this node was cut off, changed by hand).
   */
  async heartbeat(): Promise<void> {
    try {
      await this.heartbeatLease.beat();
      const own = this.nodes.items.get(this.nodeName);
      if (!own || !nodeIsRegistered(own, this.spec, this.d.config.bgp?.labels)) await this.register();
      this.metrics.heartbeats++;
      await this.publishNetworkCondition();
    } catch (e) {
      this.metrics.datastoreError("heartbeat");
      this.d.log("warn", "heartbeat failed", errorFields(e));
    }
  }

  /**
   * Tells the cluster whether this node's pod network is up, where the datastore has a place for
   * it (Kubernetes: the Node condition NetworkUnavailable=False once the first applies are done,
   * decision 0015); written again only when it changes, retried with the next heartbeat.
   */
  async publishNetworkCondition(): Promise<void> {
    const ds = this.d.ds;
    if (!ds.setNodeNetworkCondition || !this.synced || this.stopped) return;
    await this.idle();
    const c = this.networkCondition();
    const key = JSON.stringify(c);
    if (key === this.publishedCondition) return;
    try {
      await ds.setNodeNetworkCondition(this.nodeName, c);
      this.publishedCondition = key;
      this.d.log("info", "node network condition published", { ...c });
    } catch (e) {
      this.metrics.datastoreError("network-condition");
      this.d.log(
        "warn",
        "publishing the node network condition failed; the next heartbeat retries",
        errorFields(e),
      );
    }
  }

  /** Up, unless node-podcidr mode finds no spec.podCIDRs on this node's Node. */
  networkCondition(): NodeNetworkCondition {
    if (this.d.config.ipam?.mode === "node-podcidr" && !this.ownPodCidrs().length) {
      return {
        available: false,
        reason: "PodCIDRNotAssigned",
        message: `ipam.mode node-podcidr: Node ${this.nodeName} has no spec.podCIDRs (is the controller manager run with --allocate-node-cidrs?)`,
      };
    }
    return {
      available: true,
      reason: "TartanIsUp",
      message: "tartan agent is up and its routes are programmed",
    };
  }

  /** The pod CIDRs the cluster assigned to this node (Kubernetes' Node spec.podCIDRs), if any. */
  ownPodCidrs(): string[] {
    return this.nodes.items.get(this.nodeName)?.spec.podCIDRs ?? [];
  }

  async releaseEmpty(): Promise<void> {
    if (!this.synced) return;
    try {
      await this.nodeBlocks.releaseEmpty();
    } catch (e) {
      this.d.log("warn", "empty block release failed", errorFields(e));
    }
  }

  /** The cluster datastore (the socket API writes pod IPs through it). */
  get datastore(): Datastore {
    return this.d.ds;
  }

  get nodeName(): string {
    return this.d.config.nodeName;
  }

  /** False in Kubernetes mode: Pod status is kubelet's (agentWritesPodStatus). */
  get writesPodStatus(): boolean {
    return agentWritesPodStatus(this.d.config);
  }

  /** The node-local IPAM store and the network it serves (`tartan ipam` over the socket). */
  get ipam(): { store: IpamStore; network: string } {
    return { store: this.d.store, network: this.d.config.network };
  }

  get log(): AgentLog {
    return this.d.log;
  }

  get config(): AgentConfig {
    return this.d.config;
  }

  /** The node-local IPAM store (tartan status counts its allocations). */
  get ipamStore(): IpamStore {
    return this.d.store;
  }

  /**
   * Objects every mirror of the agent (its own and its managers') refused on ingestion, sorted by
   * kind and key: reported by `tartan policy status`, /v1/status and tartan_agent_rejected_objects.
   */
  rejectedObjects(): RejectedObject[] {
    const all = [this.nodes, this.blocks, ...this.managers.flatMap((m) => m.mirrors)].flatMap((m) => [
      ...m.rejected.values(),
    ]);
    return all.sort((a, b) =>
      a.kind + a.key < b.kind + b.key ? -1 : a.kind + a.key > b.kind + b.key ? 1 : 0,
    );
  }

  /** NetworkPolicy enforcement (the socket API's pod joins and `tartan policy`); undefined when off. */
  get policy(): PolicyManager | undefined {
    for (const m of this.managers) if (m instanceof PolicyManagerAdapter) return m.policy;
    return undefined;
  }

  /** Resolves when no apply of any manager is running or pending. */
  async idle(): Promise<void> {
    await Promise.all([this.localBlocks.idle(), ...this.appliers.map((a) => a.idle())]);
  }

  /** Stops watches and timers and waits for a running apply; the kernel is left as it is. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.intervals.splice(0)) this.timers.clearInterval(t);
    this.nodes.stop();
    this.blocks.stop();
    this.localBlocks.stop();
    for (const a of this.appliers) a.stop();
    await Promise.all(this.managers.map((m) => m.stop()));
    await this.idle();
  }

  private countItems(): void {
    this.metrics.nodes = this.nodes?.items.size ?? 0;
    this.metrics.clusterBlocks = this.blocks?.items.size ?? 0;
  }

  private changed(kind: string): void {
    this.countItems();
    for (const m of this.managers) m.onUpdate({ kind });
    if (!this.synced) return;
    if (kind === KINDS.ipamBlock) this.localBlocks.trigger();
    for (const a of this.appliers) a.trigger();
  }

  private async applyManager(m: Manager): Promise<void> {
    if (!this.synced || this.stopped) return;
    const at = this.now();
    const t0 = performance.now();
    const errors = this.lastApply.get(m.name)?.errors ?? 0;
    const record = (r: Partial<ManagerApply>) =>
      this.lastApply.set(m.name, {
        manager: m.name,
        at: new Date(at).toISOString(),
        durationMs: Math.round((performance.now() - t0) * 10) / 10,
        errors,
        ...r,
      });
    try {
      const r = await m.apply();
      // An apply with nothing marked did not look at the kernel: the last real one stands.
      if (r !== undefined) record(r?.changes !== undefined ? { changes: r.changes } : {});
    } catch (e) {
      record({ error: errorFields(e).error, errors: errors + 1 });
      throw e;
    }
  }

  private register(): Promise<NodeResource> {
    return registerNode(
      this.d.ds,
      this.d.config.nodeName,
      this.spec,
      { heartbeat: new Date(this.now()).toISOString(), ready: true },
      5,
      this.d.config.bgp?.labels,
    );
  }

  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        return await fn();
      } catch (e) {
        this.metrics.datastoreError(what);
        const ms = backoffMs(attempt, 200, 10_000);
        this.d.log("warn", `${what} failed; retrying`, { ...errorFields(e), retryInMs: ms });
        await new Promise((r) => this.timers.setTimeout(() => r(undefined), ms));
      }
    }
    return undefined;
  }
}
