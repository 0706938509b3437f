// Composition root: the only file that wires real adapters. One executable, three faces:
// the CNI plugin (CNI_COMMAND set), the standalone IPAM plugin (invoked as tartan-ipam), the CLI.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { AgentWiring } from "./agent/run-agent.ts";
import type { CniDeps } from "./cni/cni-deps.ts";
import { findPluginInPath } from "./cni/plugin-finder.ts";
import { readCniStdin } from "./cni/read-cni-stdin.ts";
import { runCni } from "./cni/run-cni.ts";
import { runIpamPlugin } from "./cni/run-ipam-plugin.ts";
import { LinuxHostFacts } from "./dataplane/linux/linux-host-facts.ts";
import { NetlinkDataplane } from "./dataplane/linux/netlink-dataplane.ts";
import type { NftTable } from "./dataplane/nft-table.ts";
import { openSqliteIpamStore } from "./datastore/local/sqlite-ipam-store.ts";
import { makeLogger } from "./exec/json-logger.ts";
import { run } from "./exec/run.ts";

/**
 * The nft driver, loaded when first used: most ADDs and DELs never run nft (the ipMasq chain is
 * written once per network), and every module loaded at start-up costs each plugin call.
 */
function lazyNft(): NftTable {
  let driver: Promise<NftTable> | undefined;
  const nft = () => {
    driver ??= import("./dataplane/linux/linux-nft.ts").then(({ LinuxNft }) => new LinuxNft());
    return driver;
  };
  return {
    apply: async (netns, script) => (await nft()).apply(netns, script),
    list: async (netns, family, table) => (await nft()).list(netns, family, table),
    listJson: async (netns, family, table) => (await nft()).listJson?.(netns, family, table),
  };
}

function cniDeps(env: Record<string, string | undefined>, component: string): CniDeps {
  return {
    // rtnetlink through bun:ffi: the ADD's two `ip -batch` spawns (~2 ms each) become syscalls.
    dataplane: new NetlinkDataplane(),
    nft: lazyNft(),
    host: new LinuxHostFacts(),
    openStore: (dir) => openSqliteIpamStore(dir),
    execPlugin: (binary, childEnv, stdin) => run([binary], { env: childEnv, stdin, allowFailure: true }),
    findPlugin: findPluginInPath,
    readMarker: (path) => {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return undefined;
      }
    },
    writeMarker: (path, content) => {
      mkdirSync(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true, mode: 0o700 });
      // A temp name per process: concurrent ADDs write the marker at once, and with one shared
      // name the second rename found the first one's file gone (ENOENT) and failed its ADD.
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, content);
      // rename is atomic: a concurrent reader sees the old marker or the new one, never half.
      renameSync(tmp, path);
    },
    removeMarker: (path) => rmSync(path, { force: true }),
    log: makeLogger(env, component),
    // Web Crypto, not node:crypto, whose loading would add ~10 ms to every plugin start.
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    env,
  };
}

/** The agent's real adapters; loaded only for `tartan agent`, never on the plugin path. */
async function agentWiring(env: Record<string, string | undefined>): Promise<AgentWiring> {
  const [
    { openDatastore },
    { KernelReconciler },
    { CalcKernelPort },
    { routingManager },
    { policyManager },
    { LinuxDataplane },
    { LinuxNft },
  ] = await Promise.all([
    import("./datastore/open-datastore.ts"),
    import("./agent/kernel-reconciler.ts"),
    import("./agent/calc-kernel-port.ts"),
    import("./agent/routing-manager.ts"),
    import("./agent/policy-manager-adapter.ts"),
    import("./dataplane/linux/linux-dataplane.ts"),
    import("./dataplane/linux/linux-nft.ts"),
  ]);
  return {
    openDatastore,
    openIpamStore: (dir) => openSqliteIpamStore(dir),
    dataplane: () => new LinuxDataplane(),
    // The agent's managers, in order: one line each (decision 0010). The routing backend is the
    // config's; calc/backends/ holds them.
    managers: async (config, dp, log) => [
      routingManager(new CalcKernelPort(new KernelReconciler(dp), log)),
      ...(config.networkPolicy
        ? [
            policyManager({
              nft: new LinuxNft(),
              sctp: (await import("./dataplane/linux/sctp-support.ts")).kernelTracksSctp(),
            }),
          ]
        : []),
    ],
    log: makeLogger(env, "agent", "info"),
  };
}

async function main(): Promise<number> {
  const env = process.env as Record<string, string | undefined>;
  const invokedAs =
    (process.argv0 === "bun" ? (process.argv[1] ?? "") : process.argv0).split("/").pop() ?? "";
  // CNI_COMMAND set, even empty, means a runtime called: answer with CNI error 4, never the CLI.
  const cniCall = env.CNI_COMMAND !== undefined;
  const stdin = () => readCniStdin(Bun.stdin.stream());
  if (invokedAs === "tartan-ipam" || (cniCall && invokedAs.endsWith("-ipam"))) {
    const out = await runIpamPlugin(cniDeps(env, "tartan-ipam"), env, stdin);
    await Bun.write(Bun.stdout, out.stdout);
    return out.exitCode;
  }
  if (cniCall) {
    const out = await runCni(cniDeps(env, "cni"), env, stdin);
    await Bun.write(Bun.stdout, out.stdout);
    return out.exitCode;
  }
  // The CLI (its command table, the lab's commands, the YAML printer) loads only when asked
  // for: the plugin path stays lean. The lab sits above the CLI layer, so the table is put
  // together here, where both are visible.
  const [{ runCommandTable }, { CLI_COMMANDS }, { LAB_COMMANDS }] = await Promise.all([
    import("./cli/run-command-table.ts"),
    import("./cli/commands/cli-commands.ts"),
    import("./lab/commands/lab-commands.ts"),
  ]);
  return await runCommandTable([...CLI_COMMANDS, ...LAB_COMMANDS], process.argv.slice(2), {
    io: {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
      stdin: () => Bun.stdin.text(),
    },
    env,
    agentWiring: () => agentWiring(env),
    openIpamStoreReadOnly: (dir) => openSqliteIpamStore(dir, { readOnly: true }),
  });
}

/**
 * One line for the user (message and hint), never a stack: a stack is for developers, who get
 * it with TARTAN_DEBUG=1.
 */
function fatalLine(e: unknown, env: Record<string, string | undefined>): string {
  if (env.TARTAN_DEBUG === "1" && e instanceof Error && e.stack) return `tartan: ${e.stack}\n`;
  const message = e instanceof Error ? e.message : String(e);
  const hint = (e as { hint?: unknown })?.hint;
  return `tartan: ${message.split("\n")[0]}${typeof hint === "string" && hint ? ` (${hint})` : ""}\n`;
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    // Awaited: process.exit right after an unawaited write can lose the message.
    await Bun.write(Bun.stderr, fatalLine(e, process.env));
    process.exit(1);
  },
);
