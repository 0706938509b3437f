// Composition root of dist/tartan: the CLI, the agent and the lab; it also still answers as the
// CNI plugin and tartan-ipam (cni-wiring.ts), though the plugin to install is dist/cni/tartan.
import type { AgentWiring } from "./agent/run-agent.ts";
import { runCniFaces } from "./cni-wiring.ts";
import { openSqliteIpamStore } from "./datastore/local/sqlite-ipam-store.ts";
import { makeLogger } from "./exec/json-logger.ts";

/** The agent's real adapters; loaded only for `tartan agent`, never on the plugin path. */
async function agentWiring(env: Record<string, string | undefined>): Promise<AgentWiring> {
  const [{ openDatastore }, { KernelReconciler }, { CalcKernelPort }, { LinuxDataplane }, { LinuxNft }] =
    await Promise.all([
      import("./datastore/open-datastore.ts"),
      import("./agent/kernel-reconciler.ts"),
      import("./agent/calc-kernel-port.ts"),
      import("./dataplane/linux/linux-dataplane.ts"),
      import("./dataplane/linux/linux-nft.ts"),
    ]);
  return {
    openDatastore,
    openIpamStore: (dir) => openSqliteIpamStore(dir),
    dataplane: () => new LinuxDataplane(),
    kernel: async (dp, log) => new CalcKernelPort(new KernelReconciler(dp), log),
    policy: async () => {
      const { kernelTracksSctp } = await import("./dataplane/linux/sctp-support.ts");
      return { nft: new LinuxNft(), sctp: kernelTracksSctp() };
    },
    log: makeLogger(env, "agent", "info"),
  };
}

async function main(): Promise<number> {
  const env = process.env as Record<string, string | undefined>;
  // The CNI faces, for installs of this file as the plugin; the lean plugin is dist/cni/tartan.
  const cniCode = await runCniFaces(env);
  if (cniCode !== undefined) return cniCode;
  // The lab sits above the CLI layer (it drives agents and the plugin), so main.ts routes to it.
  if (process.argv[2] === "lab") {
    const { runLabCli } = await import("./lab/run-lab-cli.ts");
    return await runLabCli(process.argv.slice(3));
  }
  if (process.argv[2] === "agent") {
    const { agentCommand } = await import("./cli/agent-command.ts");
    return await agentCommand(process.argv.slice(3), await agentWiring(env));
  }
  // The CLI (and its YAML printer) loads only when asked for: the plugin path stays lean.
  const { runCli } = await import("./cli/run-cli.ts");
  return await runCli(process.argv.slice(2));
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    // Awaited: process.exit right after an unawaited write can lose the message.
    await Bun.write(Bun.stderr, `tartan: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
