import type { NftTable } from "../dataplane/nft-table.ts";
import type { Datastore } from "../datastore/datastore.ts";
import type { IpamStore } from "../datastore/ipam-store.ts";
import {
  type IPAMBlockResource,
  KINDS,
  type NodeResource,
  type NodeSpec,
} from "../model/cluster-resources.ts";
import type { Resource } from "../model/resource.ts";
import type { AgentConfig } from "./agent-config.ts";
import { type AgentLog, errorFields } from "./agent-log.ts";
import { AgentMetrics } from "./agent-metrics.ts";
import { backoffMs } from "./backoff.ts";
import { CoalescingTrigger } from "./coalescing-trigger.ts";
import type { ClusterSnapshot, KernelPort, Underlay } from "./kernel-port.ts";
import { KindMirror } from "./kind-mirror.ts";
import { NodeBlocks } from "./node-blocks.ts";
import { PolicyManager } from "./policy-manager.ts";
import { registerNode } from "./register-node.ts";

export interface AgentTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(t: unknown): void;
}

export interface AgentDeps {
  config: AgentConfig;
  ds: Datastore;
  store: IpamStore;
  kernel: KernelPort;
  underlay: Underlay;
  /** MAC of this node's VXLAN device, published in its Node for the peers' FDB entries. */
  vtepMac: string;
  log: AgentLog;
  /** NetworkPolicy enforcement (decision 0009); absent: the agent enforces no policy. */
  policy?: { nft: NftTable; sctp: boolean };
  now?: () => number;
  timers?: AgentTimers;
}

const realTimers: AgentTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (t) => clearInterval(t as ReturnType<typeof setInterval>),
};

const specChanged = (a: Resource | undefined, b: Resource | undefined): boolean =>
  JSON.stringify(a?.spec) !== JSON.stringify(b?.spec);

/**
 * The node agent: registers the node, claims its blocks, mirrors Nodes and IPAMBlocks (list +
 * watch), and keeps the kernel at the state calc derives from them. The rules (felix's):
 * - nothing is written to the kernel before the first full sync (both kinds listed, own node
 *   registered, own blocks claimed): a half-known cluster would make the reconciler delete routes
 *   to peers it has not seen yet;
 * - watch events only mark work (cheap, synchronous setDesired) and trigger a coalesced apply;
 * - a periodic resync re-applies so drift (someone deleting our routes) is repaired;
 * - while the datastore is away the kernel stays as it is; the mirrors re-list when it is back;
 * - stop() leaves the kernel alone: a restarted agent diffs against it instead of flushing.
 */
export class Agent {
  readonly metrics = new AgentMetrics();
  readonly nodes: KindMirror<NodeResource>;
  readonly blocks: KindMirror<IPAMBlockResource>;
  readonly nodeBlocks: NodeBlocks;
  /** Pods, Namespaces and NetworkPolicies mirrored and enforced; undefined when policy is off. */
  readonly policy: PolicyManager | undefined;
  /** True from the end of the first full sync on. */
  synced = false;
  private readonly applier: CoalescingTrigger;
  private readonly timers: AgentTimers;
  private readonly now: () => number;
  private readonly intervals: unknown[] = [];
  private stopped = false;
  private syncWaiters: (() => void)[] = [];
  private readonly spec: NodeSpec;

  constructor(private readonly d: AgentDeps) {
    this.timers = d.timers ?? realTimers;
    this.now = d.now ?? Date.now;
    const mirrorOpts = (what: string) => ({
      onChange: () => this.changed(),
      onError: (e: unknown, phase: "list" | "watch") => {
        this.metrics.datastoreError(`${phase}-${what}`);
        d.log("warn", `datastore ${phase} of ${what} failed; keeping the kernel as it is and retrying`, {
          ...errorFields(e),
        });
      },
      relevant: specChanged,
      setTimeout: this.timers.setTimeout,
      clearTimeout: this.timers.clearTimeout,
    });
    this.nodes = new KindMirror<NodeResource>(d.ds, KINDS.node, mirrorOpts("nodes"));
    this.blocks = new KindMirror<IPAMBlockResource>(d.ds, KINDS.ipamBlock, mirrorOpts("blocks"));
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
    });
    this.policy = d.policy
      ? new PolicyManager({
          ds: d.ds,
          nodeName: d.config.nodeName,
          nft: d.policy.nft,
          sctp: d.policy.sctp,
          log: d.log,
          mirrorOptions: {
            onError: mirrorOpts("policy objects").onError,
            setTimeout: this.timers.setTimeout,
            clearTimeout: this.timers.clearTimeout,
          },
          setTimeout: this.timers.setTimeout,
        })
      : undefined;
    this.applier = new CoalescingTrigger(
      () => this.applyNow(),
      (e) => d.log("error", "kernel apply failed; the next trigger or resync retries", errorFields(e)),
    );
    this.spec = {
      underlayAddress: d.underlay.address,
      underlaySubnet: d.underlay.subnet,
      vtepMac: d.vtepMac,
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
      ...(this.policy?.mirrors ?? []).map((m) => m.start()),
    ]);
    while (!(this.nodes.synced && this.blocks.synced && (this.policy?.synced ?? true))) {
      if (this.stopped) return;
      await new Promise((r) => this.timers.setTimeout(() => r(undefined), 50));
    }
    await this.retrying("claim-blocks", () => this.nodeBlocks.ensureOnePerPool());
    if (this.stopped) return;
    this.synced = true;
    this.metrics.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
    log("info", "first sync done", {
      nodes: this.nodes.items.size,
      blocks: this.nodeBlocks.owned().map((b) => b.spec.cidr),
    });
    this.applier.trigger();
    this.policy?.start();
    const every = (seconds: number, fn: () => void) =>
      this.intervals.push(this.timers.setInterval(fn, Math.max(50, seconds * 1000)));
    every(config.resyncSeconds, () => this.resync());
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
    this.applier.trigger();
    this.policy?.resync();
  }

  /** Writes the heartbeat into the Node's status (CAS; a conflict is retried by registerNode). */
  async heartbeat(): Promise<void> {
    try {
      await this.register();
      this.metrics.heartbeats++;
    } catch (e) {
      this.metrics.datastoreError("heartbeat");
      this.d.log("warn", "heartbeat failed", errorFields(e));
    }
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

  get log(): AgentLog {
    return this.d.log;
  }

  /** Resolves when no apply is running or pending. */
  idle(): Promise<void> {
    return this.applier.idle();
  }

  /** The cluster as the agent knows it now (what calc gets). */
  snapshot(): ClusterSnapshot {
    const c = this.d.config;
    return {
      nodeName: c.nodeName,
      backend: c.backend,
      vxlan: c.vxlan,
      underlay: this.d.underlay,
      nodes: [...this.nodes.items.values()],
      blocks: [...this.blocks.items.values()],
    };
  }

  /** Stops watches and timers and waits for a running apply; the kernel is left as it is. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.intervals.splice(0)) this.timers.clearInterval(t);
    this.nodes.stop();
    this.blocks.stop();
    this.applier.stop();
    this.policy?.stop();
    await this.applier.idle();
    await this.policy?.idle();
  }

  private changed(): void {
    this.metrics.nodes = this.nodes.items.size;
    this.metrics.clusterBlocks = this.blocks.items.size;
    if (this.synced) this.applier.trigger();
  }

  private async applyNow(): Promise<void> {
    if (!this.synced || this.stopped) return;
    this.nodeBlocks.syncLocal();
    this.metrics.nodes = this.nodes.items.size;
    this.metrics.clusterBlocks = this.blocks.items.size;
    this.d.kernel.setDesired(this.snapshot());
    const t0 = performance.now();
    try {
      const r = await this.d.kernel.apply();
      if (r?.changes) {
        this.metrics.kernelChanges += r.changes;
        this.d.log("info", "kernel updated", { changes: r.changes });
      }
    } catch (e) {
      this.metrics.applyErrors++;
      throw e;
    } finally {
      const s = (performance.now() - t0) / 1000;
      this.metrics.applies++;
      this.metrics.applySecondsSum += s;
      this.metrics.lastApplySeconds = s;
    }
  }

  private register(): Promise<NodeResource> {
    return registerNode(this.d.ds, this.d.config.nodeName, this.spec, {
      heartbeat: new Date(this.now()).toISOString(),
      ready: true,
    });
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
