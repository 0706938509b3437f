import { TartanError } from "../errors/tartan-error.ts";
import type { LabNode } from "./lab-state.ts";
import { processStartTime } from "./process-start-time.ts";
import { requireLabState } from "./require-lab-state.ts";
import { startAgent } from "./start-agent.ts";
import { stopLabProcess } from "./stop-lab-process.ts";
import { updateLabState } from "./update-lab-state.ts";

export type LabAgentAction = "stop" | "start" | "restart";

export interface LabAgentResult {
  node: string;
  /** The PID that was stopped, if one ran. */
  stopped?: number;
  /** The PID of the agent started (health answered: first sync done). */
  started?: number;
}

const running = (n: LabNode): boolean =>
  n.agent !== undefined && processStartTime(n.agent.pid) === n.agent.startTime;

/**
 * `tartan lab agent stop|start|restart NODE`: stops the node's agent by its recorded PID (SIGTERM;
 * the agent leaves the kernel as it is) and/or starts it again exactly as `lab up` does (same
 * config, same log, appended), waiting for its health check. For restart and upgrade drills.
 */
export async function labAgent(
  lab: string,
  nodeName: string,
  action: LabAgentAction,
): Promise<LabAgentResult> {
  const { paths, state } = requireLabState(lab);
  const node = state.nodes.find((n) => n.name === nodeName);
  if (!node) {
    throw new TartanError(
      "lab-no-node",
      `lab "${lab}" has no node "${nodeName}"`,
      `nodes: ${state.nodes.map((n) => n.name).join(", ")}`,
    );
  }
  if (!node.agentConfigFile) {
    throw new TartanError("lab-no-agent", `node ${nodeName} has no agent (lab up --no-agents)`);
  }
  const result: LabAgentResult = { node: nodeName };
  if (action !== "start" && node.agent && (await stopLabProcess(node.agent))) result.stopped = node.agent.pid;
  if (action === "stop") return result;
  if (action === "start" && running(node)) {
    throw new TartanError(
      "lab-agent-running",
      `the agent of ${nodeName} is already running (pid ${node.agent!.pid})`,
      `restart it: tartan lab agent restart ${nodeName} --lab ${lab}`,
    );
  }
  const proc = await startAgent(state.tartan, node, async (p) => {
    await updateLabState(paths, (s) => ({
      ...s!,
      nodes: s!.nodes.map((x) => (x.name === nodeName ? { ...x, agent: p } : x)),
    }));
  });
  result.started = proc.pid;
  return result;
}
