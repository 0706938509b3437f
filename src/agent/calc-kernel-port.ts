import { calcNodeRouting, NodeRoutingCache, type RoutingProblem } from "../calc/node-routing.ts";
import type { AgentLog } from "./agent-log.ts";
import type { ClusterSnapshot, KernelPort } from "./kernel-port.ts";
import type { KernelReconciler } from "./kernel-reconciler.ts";
import { type PeerStates, peerProgramStates } from "./peer-program-state.ts";

/**
 * The real kernel side: calc/ turns the snapshot into the node's desired routing state (pure),
 * the KernelReconciler diffs the kernel against it and writes only the differences. Routing
 * problems (a peer host-gw cannot reach, a peer without VTEP MAC) are logged when they appear,
 * each once while it lasts, not on every apply.
 */
export class CalcKernelPort implements KernelPort {
  problems: RoutingProblem[] = [];
  /** The problems already logged (by problemKey), so that each is logged once while it lasts. */
  private reported = new Set<string>();
  /** How long the last setDesired's calc took (ms). */
  private calcMs = 0;
  /** calc's per-object work, kept across applies: only the Nodes and blocks that changed are redone. */
  private readonly cache = new NodeRoutingCache();

  constructor(
    private readonly reconciler: KernelReconciler,
    private readonly log: AgentLog,
  ) {}

  setDesired(s: ClusterSnapshot): void {
    const t0 = performance.now();
    const r = routingOf(s, this.cache);
    this.calcMs = Math.round((performance.now() - t0) * 10) / 10;
    this.reconciler.setDesired(r.state);
    this.problems = r.problems;
    // Only problems not already reported: a burst of 1000 blocks arriving before their Nodes
    // would otherwise log every one of them again on every apply until the Nodes arrive.
    const now = new Map(r.problems.map((p) => [problemKey(p), p]));
    let logged = 0;
    for (const [k, p] of now) {
      if (this.reported.has(k)) continue;
      if (logged++ < MAX_PROBLEM_LINES) this.log("warn", "routing problem", { ...p });
    }
    if (logged > MAX_PROBLEM_LINES)
      this.log("warn", "more routing problems", {
        notLogged: logged - MAX_PROBLEM_LINES,
        total: now.size,
        hint: "tartan status lists every peer's problem",
      });
    this.reported = new Set(now.keys());
  }

  verify(): void {
    this.reconciler.verify();
  }

  /** The snapshot's desired state against the kernel as the reconciler reads it, per peer. */
  async inspect(s: ClusterSnapshot): Promise<PeerStates> {
    const r = routingOf(s);
    const actual = await this.reconciler.readActual(r.state.vxlan?.name);
    return peerProgramStates({
      localNode: s.nodeName,
      nodes: s.nodes.map((n) => n.metadata.name),
      blocks: s.blocks,
      desired: r.state,
      problems: r.problems,
      actual,
    });
  }

  async apply(): Promise<{ changes: number; timings: Record<string, number> }> {
    const st = await this.reconciler.apply();
    if (st.conflicts.length)
      this.log("warn", "routes not written: foreign routes hold them", { dst: st.conflicts });
    const t = this.reconciler.lastTimings;
    return {
      changes: st.added + st.changed + st.removed,
      timings: { calcMs: this.calcMs, ...(t ?? {}) },
    };
  }
}

/** At most this many "routing problem" lines per apply; the rest are counted in one line. */
const MAX_PROBLEM_LINES = 20;

const problemKey = (p: RoutingProblem) => `${p.code} ${p.node} ${p.block ?? ""} ${p.message}`;

const routingOf = (s: ClusterSnapshot, cache?: NodeRoutingCache) =>
  calcNodeRouting({
    ...(cache ? { cache } : {}),
    localNode: s.nodeName,
    nodes: s.nodes,
    blocks: s.blocks,
    backend: s.backend,
    underlay: { interface: s.underlay.interface, mtu: s.underlay.mtu },
    vxlan: { vni: s.vxlan.vni, port: s.vxlan.port },
  });
