// Composition root of dist/tartan: the CLI, the agent and the lab; it also still answers as the
// CNI plugin and tartan-ipam (cni-wiring.ts), though the plugin to install is dist/cni/tartan.
import { existsSync, writeSync } from "node:fs";
import type { AgentConfig } from "./agent/agent-config.ts";
import type { AgentLog } from "./agent/agent-log.ts";
import type { AgentWiring } from "./agent/run-agent.ts";
import { runCniFaces } from "./cni-wiring.ts";
import { birdPaths } from "./dataplane/bird-daemon.ts";
import type { Dataplane } from "./dataplane/dataplane.ts";
import { openSqliteIpamStore } from "./datastore/local/sqlite-ipam-store.ts";
import { flushLogs, makeLogger } from "./exec/json-logger.ts";

/** The agent's real adapters; loaded only for `tartan agent`, never on the plugin path. */
async function agentWiring(env: Record<string, string | undefined>): Promise<AgentWiring> {
  const [
    { openDatastore },
    { KernelReconciler },
    { CalcKernelPort },
    { routingManager },
    { policyManager },
    { NetlinkDataplane },
    { LinuxNft },
    { nodeReclaimer },
    { pingProbe, noProbe },
    { isBgpBackend },
  ] = await Promise.all([
    import("./datastore/open-datastore.ts"),
    import("./agent/kernel-reconciler.ts"),
    import("./agent/calc-kernel-port.ts"),
    import("./agent/routing-manager.ts"),
    import("./agent/policy-manager-adapter.ts"),
    import("./dataplane/linux/netlink-dataplane.ts"),
    import("./dataplane/linux/linux-nft.ts"),
    import("./agent/node-reclaimer.ts"),
    import("./agent/underlay-probe.ts"),
    import("./model/routing-backend.ts"),
  ]);
  return {
    openDatastore,
    openIpamStore: (dir) => openSqliteIpamStore(dir),
    // Routes, neighbours, FDB and links over rtnetlink; iproute2 only where libc cannot be had.
    dataplane: () => new NetlinkDataplane(),
    // The agent's managers, in order: one line each (decision 0010). The routing backend is the
    // config's; calc/backends/ holds them.
    managers: async (config, dp, log) => {
      // A bird left by an earlier bgp backend is stopped, and its routes removed, before anything
      // of this backend is programmed.
      if (!isBgpBackend(config.backend)) await retireEarlierBird(config, dp, log);
      return [
        routingManager(new CalcKernelPort(new KernelReconciler(dp), log)),
        ...(config.networkPolicy
          ? [
              policyManager({
                nft: new LinuxNft(),
                sctp: (await import("./dataplane/linux/sctp-support.ts")).kernelTracksSctp(),
                openDropLog: await dropLogOpener(),
              }),
            ]
          : []),
        // BGP through BIRD (decision 0017): this node's bird, for the bgp backends.
        ...(isBgpBackend(config.backend)
          ? [
              (await import("./agent/bgp-manager.ts")).bgpManager(
                new (await import("./dataplane/linux/bird-process.ts")).BirdProcess(
                  config.bgp.stateDir,
                  config.bgp.birdPath,
                ),
              ),
            ]
          : []),
        // Outgoing NAT for pools with natOutgoing (Calico's): the IPPools of the datastore.
        (await import("./agent/nat-manager.ts")).natManager(new LinuxNft()),
        // Dead nodes (decision 0014): acts only in the agent holding the reclaim lease.
        nodeReclaimer({ probe: config.nodeReclaimProbe === "ping" ? pingProbe : noProbe }),
      ];
    },
    log: makeLogger(env, "agent", "info"),
  };
}

/** For the backends without BGP: a bird an earlier bgp backend left on this node is retired. */
async function retireEarlierBird(config: AgentConfig, dp: Dataplane, log: AgentLog): Promise<void> {
  const { conf, pid } = birdPaths(config.bgp.stateDir);
  // Nothing of a bird here (nearly every start): no module loaded, nothing read.
  if (!existsSync(conf) && !existsSync(pid)) return;
  const [{ retireBird }, { BirdProcess }] = await Promise.all([
    import("./agent/retire-bird.ts"),
    import("./dataplane/linux/bird-process.ts"),
  ]);
  const bird = new BirdProcess(config.bgp.stateDir, config.bgp.birdPath);
  await retireBird(bird, dp, config.pools, log, existsSync(conf));
}

/** The drop log group's reader: an nfnetlink_log socket in the agent's own namespace. */
async function dropLogOpener() {
  const [{ NflogSocket }, { DROP_LOG_GROUP }] = await Promise.all([
    import("./dataplane/linux/netlink/nflog-socket.ts"),
    import("./calc/policy-names.ts"),
  ]);
  return () => NflogSocket.open(DROP_LOG_GROUP);
}

/**
 * Writes all of `text` before returning: process.stdout.write to a pipe is asynchronous, and the
 * process.exit after a command cut large outputs (`-o json` of a full drop ring) at 64 KiB.
 */
function writeAllSync(fd: number, text: string): void {
  const b = Buffer.from(text);
  for (let off = 0; off < b.length; ) {
    try {
      off += writeSync(fd, b, off);
    } catch (e) {
      if ((e as { code?: string }).code !== "EAGAIN") throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // a full non-blocking pipe: wait for the reader
    }
  }
}

async function main(): Promise<number> {
  const env = process.env as Record<string, string | undefined>;
  // The CNI faces, for installs of this file as the plugin; the lean plugin is dist/cni/tartan.
  const cniCode = await runCniFaces(env);
  if (cniCode !== undefined) return cniCode;
  // The CLI (its command table, the lab's commands, the YAML printer) loads only when asked
  // for: the plugin path stays lean. The lab sits above the CLI layer, so the table is put
  // together here, where both are visible.
  const [{ runCommandTable }, { CLI_COMMANDS }, { LAB_COMMANDS }, { UI_COMMANDS }] = await Promise.all([
    import("./cli/run-command-table.ts"),
    import("./cli/commands/cli-commands.ts"),
    import("./lab/commands/lab-commands.ts"),
    import("./ui/commands/ui-command.ts"),
  ]);
  return await runCommandTable([...CLI_COMMANDS, ...LAB_COMMANDS, ...UI_COMMANDS], process.argv.slice(2), {
    io: {
      out: (t) => writeAllSync(1, t),
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
  async (code) => {
    await flushLogs();
    process.exit(code);
  },
  async (e) => {
    // Awaited: process.exit right after an unawaited write can lose the message.
    await flushLogs();
    await Bun.write(Bun.stderr, fatalLine(e, process.env));
    process.exit(1);
  },
);
