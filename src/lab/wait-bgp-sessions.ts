import { AgentClient } from "../api/agent-client.ts";
import { AGENT_BGP_PATH, type BgpNodeStatus } from "../model/agent-api.ts";
import type { LabNode } from "./lab-state.ts";

/**
 * Waits until every node's agent reports its BGP healthy (bird running, every session
 * Established), so `lab up --backend bgp*` returns with routes exchanged, as a vxlan lab does:
 * the agents' readiness alone came ~0.3 s per node before the sessions (3.6 s at 10 nodes), and a
 * ping right after `lab up` failed. Resolves with the verdicts of the nodes still not healthy
 * when `timeoutMs` passes (empty when all are): a session that cannot come up is the lab's
 * user's to see (`tartan bgp status`), not a reason to tear the lab down.
 */
export async function waitBgpSessions(nodes: readonly LabNode[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const agents = nodes.map((n) => ({ n, client: new AgentClient(`${n.dir}/agent.sock`) }));
  for (;;) {
    const verdicts = await Promise.all(
      agents.map(async ({ n, client }) => {
        try {
          const s = await client.get<BgpNodeStatus>(AGENT_BGP_PATH);
          return s.healthy ? undefined : `${n.name}: ${s.verdict}`;
        } catch (e) {
          return `${n.name}: ${e instanceof Error ? e.message : String(e)}`;
        }
      }),
    );
    const waiting = verdicts.filter((v): v is string => v !== undefined);
    if (waiting.length === 0 || Date.now() > deadline) return waiting;
    await Bun.sleep(100);
  }
}
