import { readFileSync } from "node:fs";
import { AgentClient } from "../api/agent-client.ts";
import { TartanError } from "../errors/tartan-error.ts";
import type { LabNode, LabProcess } from "./lab-state.ts";
import { processStartTime } from "./process-start-time.ts";
import { startInNetns } from "./start-in-netns.ts";
import { waitUntil } from "./wait-until.ts";

function logTail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-5).join("\n");
  } catch {
    return "";
  }
}

/**
 * Starts `tartan agent --config FILE` inside the node's namespace and waits until it answers its
 * health check (first sync done) on its unix socket, which sits in the node's dir and so is
 * reachable from here without entering the namespace. Fails fast, with its last log lines, if the
 * agent exits. `onStarted` records the PID before the wait, so a failure can still stop it.
 */
export async function startAgent(
  tartan: string,
  node: LabNode,
  onStarted: (p: LabProcess) => Promise<void>,
  timeoutMs = 60_000,
): Promise<LabProcess> {
  const log = `${node.dir}/agent.log`;
  const proc = await startInNetns(node.netns, [tartan, "agent", "--config", node.agentConfigFile!], log);
  await onStarted(proc);
  const agent = new AgentClient(`${node.dir}/agent.sock`);
  const outcome = await waitUntil(
    `agent on ${node.name} ready`,
    timeoutMs,
    async () => {
      if (processStartTime(proc.pid) !== proc.startTime) return "exited";
      return (await agent.healthy()) ? "ready" : undefined;
    },
    `see ${log}`,
    200,
  );
  if (outcome === "exited") {
    throw new TartanError(
      "lab-agent-exited",
      `the agent of ${node.name} exited:\n${logTail(log)}`,
      `see ${log}`,
    );
  }
  return proc;
}
