import { calcNodeRouting, type RoutingProblem } from "../calc/node-routing.ts";
import type { AgentLog } from "./agent-log.ts";
import type { ClusterSnapshot, KernelPort } from "./kernel-port.ts";
import type { KernelReconciler } from "./kernel-reconciler.ts";
import { type PeerStates, peerProgramStates } from "./peer-program-state.ts";

/**
 * The real kernel side: calc/ turns the snapshot into the node's desired routing state (pure),
 * the KernelReconciler diffs the kernel against it and writes only the differences. Routing
 * problems (a peer host-gw cannot reach, a peer without VTEP MAC) are logged when they change,
 * not on every apply.
 */
export class CalcKernelPort implements KernelPort {
  problems: RoutingProblem[] = [];
  private lastProblems = "[]";

  constructor(
    private readonly reconciler: KernelReconciler,
    private readonly log: AgentLog,
  ) {}

  setDesired(s: ClusterSnapshot): void {
    const r = routingOf(s);
    this.reconciler.setDesired(r.state);
    this.problems = r.problems;
    const text = JSON.stringify(r.problems);
    if (text !== this.lastProblems) {
      this.lastProblems = text;
      for (const p of r.problems) this.log("warn", "routing problem", { ...p });
    }
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

  async apply(): Promise<{ changes: number }> {
    const st = await this.reconciler.apply();
    if (st.conflicts.length)
      this.log("warn", "routes not written: foreign routes hold them", { dst: st.conflicts });
    return { changes: st.added + st.changed + st.removed };
  }
}

const routingOf = (s: ClusterSnapshot) =>
  calcNodeRouting({
    localNode: s.nodeName,
    nodes: s.nodes,
    blocks: s.blocks,
    backend: s.backend,
    underlay: { interface: s.underlay.interface, mtu: s.underlay.mtu },
    vxlan: { vni: s.vxlan.vni, port: s.vxlan.port },
  });
