import { defineCommand } from "../../cli/command.ts";
import { LAB_OPTION } from "../../cli/common-options.ts";
import { type LabAgentAction, type LabAgentResult, labAgent } from "../lab-agent.ts";
import { labName } from "./lab-name.ts";

const SUMMARIES: Record<LabAgentAction, string> = {
  stop: "drill: stop the node's agent by its PID (the kernel stays as it is)",
  start: "drill: start the node's agent as lab up does (same config, same log)",
  restart: "drill: stop, then start the node's agent",
};

/** `tartan lab agent stop|start|restart NODE`: one command per action, the same shape. */
export const labAgentCommands = (["stop", "start", "restart"] as const).map((action) =>
  defineCommand<LabAgentResult>({
    path: ["lab", "agent", action],
    summary: SUMMARIES[action],
    args: [{ name: "NODE" }],
    options: [LAB_OPTION],
    examples: [`tartan lab agent ${action} node-2`],
    needsRoot: true,
    run: async (args) => await labAgent(labName(args), args.positionals[0]!, action),
    render: (r) => `agent of ${r.node}: stopped ${r.stopped ?? "-"}, started ${r.started ?? "-"}\n`,
  }),
);
