// A KernelPort for agent tests: a tiny "kernel" of routes (peer block CIDR → peer underlay
// address) that apply() diffs against and writes only the differences of, like the real
// reconciler. Tests read `kernel`, count `applies`/`writes`, and break the kernel to see drift
// repaired.
import type { ClusterSnapshot, KernelPort } from "../../src/agent/kernel-port.ts";

export class FakeKernelPort implements KernelPort {
  readonly kernel = new Map<string, string>();
  desired: ClusterSnapshot | undefined;
  setDesiredCalls = 0;
  applies = 0;
  writes = 0;
  /** When set, apply() waits for it (to hold an apply "running"). */
  gate: Promise<void> | undefined;
  failNext: Error | undefined;

  setDesired(s: ClusterSnapshot): void {
    this.desired = s;
    this.setDesiredCalls++;
  }

  wanted(): Map<string, string> {
    const s = this.desired;
    const out = new Map<string, string>();
    if (!s) return out;
    const nodes = new Map(s.nodes.map((n) => [n.metadata.name, n]));
    for (const b of s.blocks) {
      const owner = nodes.get(b.spec.node);
      if (b.spec.node !== s.nodeName && owner) out.set(b.spec.cidr, owner.spec.underlayAddress);
    }
    return out;
  }

  async apply(): Promise<{ changes: number }> {
    this.applies++;
    if (this.gate) await this.gate;
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    const want = this.wanted();
    let changes = 0;
    for (const [dst, via] of want) {
      if (this.kernel.get(dst) !== via) {
        this.kernel.set(dst, via);
        changes++;
      }
    }
    for (const dst of [...this.kernel.keys()]) {
      if (!want.has(dst)) {
        this.kernel.delete(dst);
        changes++;
      }
    }
    this.writes += changes;
    return { changes };
  }
}
