import { readFileSync } from "node:fs";
import { parseAgentConfig } from "../../agent/agent-config.ts";
import { runAgent } from "../../agent/run-agent.ts";
import { TartanError } from "../../errors/tartan-error.ts";
import { defineCommand, Exited } from "../command.ts";

/**
 * `tartan agent --config FILE`: reads and validates the config, then runs the agent until
 * SIGTERM. Errors before the agent runs (bad config, missing underlay) print one line and exit 1.
 */
export const agentCommand = defineCommand({
  path: ["agent"],
  summary: "run the node agent (socket API and metrics; SIGTERM stops it and leaves the kernel as is)",
  options: [
    {
      name: "config",
      value: "FILE",
      description: "the agent's YAML or JSON config",
      required: true,
      complete: "file",
    },
  ],
  examples: ["tartan agent --config /etc/tartan/agent.yaml"],
  needsRoot: true,
  run: async (args, ctx) => {
    const file = args.get("config")!;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new TartanError(
        "agent-config-unreadable",
        `cannot read ${file}: ${e instanceof Error ? e.message : e}`,
        "pass the path of the agent's YAML or JSON config",
      );
    }
    const config = parseAgentConfig(text, file);
    if (!ctx.agentWiring) throw new Error("tartan agent: no agent wiring (main.ts passes it)");
    return new Exited(await runAgent(config, await ctx.agentWiring()));
  },
});
