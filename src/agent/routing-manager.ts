import type { PeerProgramState } from "../model/agent-api.ts";
import { KINDS } from "../model/cluster-resources.ts";
import type { ClusterSnapshot, KernelPort } from "./kernel-port.ts";
import type { Manager, ManagerContext, ManagerEvent, ManagerFactory } from "./manager.ts";

const READS = new Set<string>([KINDS.node, KINDS.ipamBlock]);

/** See RoutingManager.settleMs. */
export const ROUTING_SETTLE_MS = 50;

/**
 * Host-to-host routing as a manager: the cluster's Nodes and IPAMBlocks (the agent's mirrors)
 * go through the KernelPort (in production calc/node-routing with the configured backend, then
 * the KernelReconciler) into the kernel. An apply reads the kernel again and writes only the
 * difference, so a resync is an apply; an apply with nothing marked does no I/O at all.
 */
export class RoutingManager implements Manager {
  readonly name = "routing";
  readonly mirrors = [];
  /**
   * After an apply, the next waits as long as it took, at most this long, for more events: a
   * 1000-node burst reaches the agent as ~16 etcd transactions over 100–500 ms; without it every
   * transaction that arrives during an apply costs one more apply. A lone change after a quiet
   * spell is not delayed, and one after a cheap apply only by that apply's few ms.
   */
  readonly settleMs = ROUTING_SETTLE_MS;
  /** Starts marked: the first apply after the first sync must run. */
  private dirty = true;

  constructor(
    private readonly kernel: KernelPort,
    private readonly ctx: ManagerContext,
  ) {}

  get inSync(): boolean {
    return this.ctx.nodes.synced && this.ctx.blocks.synced;
  }

  onUpdate(event: ManagerEvent): void {
    if (READS.has(event.kind)) this.dirty = true;
  }

  resync(): void {
    this.dirty = true;
    this.kernel.verify?.(); // the resync is the drift repair: compare with the kernel itself
  }

  /** The cluster as the agent knows it now (what calc gets). */
  snapshot(): ClusterSnapshot {
    const c = this.ctx.config;
    return {
      nodeName: c.nodeName,
      backend: c.backend,
      vxlan: c.vxlan,
      underlay: this.ctx.underlay,
      nodes: [...this.ctx.nodes.items.values()],
      blocks: [...this.ctx.blocks.items.values()],
    };
  }

  async apply(): Promise<{ changes?: number; timings?: Record<string, number> } | undefined> {
    if (!this.dirty) return undefined;
    this.dirty = false;
    const m = this.ctx.metrics;
    this.kernel.setDesired(this.snapshot());
    const t0 = performance.now();
    try {
      const r = await this.kernel.apply();
      if (r?.changes) {
        m.kernelChanges += r.changes;
        this.ctx.log("info", "kernel updated", {
          changes: r.changes,
          ...(r.timings ? { ms: r.timings } : {}),
        });
      }
      return r;
    } catch (e) {
      this.dirty = true; // the kernel is not known to match: the next trigger retries
      m.applyErrors++;
      throw e;
    } finally {
      const s = (performance.now() - t0) / 1000;
      m.applies++;
      m.applySecondsSum += s;
      m.lastApplySeconds = s;
    }
  }

  /** Per peer, whether the kernel holds what the current snapshot needs (undefined: port cannot tell). */
  async inspect(): Promise<{ peers: PeerProgramState[]; local: string[] } | undefined> {
    return await this.kernel.inspect?.(this.snapshot());
  }

  async stop(): Promise<void> {}
}

/** The wiring's line for routing: a manager over this kernel port. */
export const routingManager =
  (kernel: KernelPort): ManagerFactory =>
  (ctx) =>
    new RoutingManager(kernel, ctx);
