import type { DesiredState } from "../calc/desired-kernel-state.ts";
import type { Dataplane, NetnsRef } from "../dataplane/dataplane.ts";
import { TARTAN_OWNED } from "../dataplane/tartan-owned.ts";
import { type ActualKernelState, diffKernelState, type ReconcileStats } from "./kernel-diff.ts";
import { writtenKernelState } from "./written-kernel-state.ts";

const NOTHING: ReconcileStats = { added: 0, changed: 0, removed: 0, unchanged: 0, conflicts: [] };

/** Where the last apply's time went (ms); `readMs` only when it read the kernel back. */
export interface ReconcileTimings {
  readMs?: number;
  diffMs: number;
  writeMs: number;
  ops: number;
}

const since = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

/**
 * Keeps one namespace's inter-node routing (VXLAN device, its neighbour and FDB entries, block
 * routes and blackholes) equal to a desired state, felix-style: setDesired() is cheap and
 * synchronous (it stores the state and marks it dirty, no I/O), apply() diffs and writes just
 * the difference in one Dataplane.apply. Nothing is flushed, nothing it does not own is touched,
 * and applying the same state twice writes nothing. Nothing is written before the first
 * setDesired (the agent calls it once the datastore is in sync).
 *
 * What it diffs against: the kernel as read back (the device, proto-201 routes that are not pod
 * routes, entries on the device), or, when the last apply wrote a desired state in full and
 * nothing since asked to look again, that state itself (writtenKernelState): at 1000 remote
 * nodes the read-back costs more than calc and diff together, and a burst of watch events pays
 * it on every apply. The kernel is read back on the first apply, after a failure or a conflict,
 * after verify() (the agent's periodic resync: drift repair), and when apply() is called with no
 * new desired state since the last one (a caller asking to reconcile again means "look"). A write
 * refused on the trusted path (the kernel drifted meanwhile) is retried at once on a read-back.
 */
export class KernelReconciler {
  private desired: DesiredState | undefined;
  private isDirty = false;
  private running: Promise<unknown> = Promise.resolve();
  /** The desired state the last apply wrote in full; undefined when the kernel must be read. */
  private written: DesiredState | undefined;
  /** Where the last apply's time went. */
  lastTimings: ReconcileTimings | undefined;

  constructor(
    private readonly dp: Dataplane,
    private readonly netns: NetnsRef = null,
  ) {}

  setDesired(state: DesiredState): void {
    this.desired = state;
    this.isDirty = true;
  }

  /** The next apply reads the kernel back instead of trusting what the last one wrote. */
  verify(): void {
    this.written = undefined;
  }

  /** True when a desired state arrived (or an apply failed) since the last apply started. */
  get dirty(): boolean {
    return this.isDirty;
  }

  /** Reconciles; concurrent calls run one after the other. */
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
    const written = this.written;
    this.written = undefined; // until this apply has written everything
    try {
      if (written && written !== desired) {
        try {
          return await this.write(desired, writtenKernelState(written), undefined);
        } catch {
          // The kernel is not what was written (a route or the device changed by hand): look.
        }
      }
      const t0 = performance.now();
      const actual = await this.read(desired.vxlan?.name ?? TARTAN_OWNED.vxlanDevice);
      return await this.write(desired, actual, since(t0));
    } catch (e) {
      this.isDirty = true; // the kernel is not known to match: the next trigger must retry
      throw e;
    }
  }

  private async write(
    desired: DesiredState,
    actual: ActualKernelState,
    readMs: number | undefined,
  ): Promise<ReconcileStats> {
    let t = performance.now();
    const diff = diffKernelState(desired, actual);
    const diffMs = since(t);
    t = performance.now();
    // Independent: after a refusal the kernel is read back anyway (written stays unset), so ops
    // the driver ran past it do no harm, and the netlink driver can send 64 to a datagram.
    if (diff.ops.length > 0) await this.dp.apply(this.netns, diff.ops, { independent: true });
    this.lastTimings = {
      ...(readMs !== undefined ? { readMs } : {}),
      diffMs,
      writeMs: since(t),
      ops: diff.ops.length,
    };
    // A conflict leaves a desired route unwritten: only a read-back sees whether it cleared.
    if (diff.stats.conflicts.length === 0) this.written = desired;
    return diff.stats;
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
