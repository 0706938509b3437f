import { readFileSync } from "node:fs";
import { parseAgentConfig } from "../agent/agent-config.ts";
import { type AgentWiring, runAgent } from "../agent/run-agent.ts";
import { TartanError } from "../errors/tartan-error.ts";

/**
 * `tartan agent --config FILE`: reads and validates the config, then runs the agent until
 * SIGTERM. Errors before the agent runs (bad config, missing underlay) print one line and exit 1.
 */
export async function agentCommand(args: string[], wiring: AgentWiring): Promise<number> {
  const i = args.indexOf("--config");
  const file = i >= 0 ? args[i + 1] : undefined;
  try {
    if (!file || file.startsWith("-")) {
      throw new TartanError("cli-usage", "tartan agent needs --config FILE", "see tartan --help");
    }
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
    return await runAgent(parseAgentConfig(text, file), wiring);
  } catch (e) {
    if (e instanceof TartanError) {
      // Awaited: the process exits right after, and an unawaited write to a pipe can be lost.
      await Bun.write(Bun.stderr, `tartan agent: ${e.full} [${e.code}]\n`);
      return e.code === "cli-usage" ? 2 : 1;
    }
    throw e;
  }
}
