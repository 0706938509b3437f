import type { DesiredState } from "../calc/desired-kernel-state.ts";
import type { Dataplane, NetnsRef } from "../dataplane/dataplane.ts";
import { TARTAN_OWNED } from "../dataplane/tartan-owned.ts";
import { type ActualKernelState, diffKernelState, type ReconcileStats } from "./kernel-diff.ts";

const NOTHING: ReconcileStats = { added: 0, changed: 0, removed: 0, unchanged: 0, conflicts: [] };

/**
 * Keeps one namespace's inter-node routing (VXLAN device, its neighbour and FDB entries, block
 * routes and blackholes) equal to a desired state, felix-style: setDesired() is cheap and
 * synchronous (it stores the state and marks it dirty, no I/O), apply() reads only what tartan
 * owns (the device, proto-201 routes that are not pod routes, entries on the device), diffs, and
 * writes just the difference in one Dataplane.apply. Nothing is flushed, nothing it does not own
 * is touched, and applying the same state twice writes nothing. apply() always re-reads, so
 * calling it on a timer repairs hand-made drift; nothing is written before the first setDesired
 * (the agent calls it once the datastore is in sync).
 */
export class KernelReconciler {
  private desired: DesiredState | undefined;
  private isDirty = false;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dp: Dataplane,
    private readonly netns: NetnsRef = null,
  ) {}

  setDesired(state: DesiredState): void {
    this.desired = state;
    this.isDirty = true;
  }

  /** True when a desired state arrived (or an apply failed) since the last apply started. */
  get dirty(): boolean {
    return this.isDirty;
  }

  /** Reconciles; concurrent calls run one after the other, each against a fresh read. */
  apply(): Promise<ReconcileStats> {
    // `running` never rejects (failures reach the caller through `next`), so the chain holds.
    const next = this.running.then(() => this.applyOnce());
    this.running = next.catch(() => {});
    return next;
  }

  private async applyOnce(): Promise<ReconcileStats> {
    const desired = this.desired;
    if (!desired) return { ...NOTHING, conflicts: [] };
    this.isDirty = false;
    try {
      const actual = await this.read(desired.vxlan?.name ?? TARTAN_OWNED.vxlanDevice);
      const diff = diffKernelState(desired, actual);
      if (diff.ops.length > 0) await this.dp.apply(this.netns, diff.ops);
      return diff.stats;
    } catch (e) {
      this.isDirty = true; // the kernel is not known to match: the next trigger must retry
      throw e;
    }
  }

  /** What the reconciler would read now (tartan status compares it with the desired state). */
  readActual(device: string = TARTAN_OWNED.vxlanDevice): Promise<ActualKernelState> {
    return this.read(device);
  }

  private async read(device: string): Promise<ActualKernelState> {
    const [vxlan, v4, v6, neighbours, fdb] = await Promise.all([
      this.dp.link(this.netns, device),
      this.dp.routes(this.netns, 4),
      this.dp.routes(this.netns, 6),
      this.dp.neighbours(this.netns),
      this.dp.fdb(this.netns, device),
    ]);
    const actual: ActualKernelState = { routes: [...v4, ...v6], neighbours, fdb };
    if (vxlan) actual.vxlan = vxlan;
    return actual;
  }
}
