// Composition root of the CNI faces, shared by both executables: dist/cni/tartan (src/cni-main.ts,
// the lean plugin a runtime starts once per pod) and dist/tartan (src/main.ts, CLI and agent, which
// still answers CNI_COMMAND for installs made before the split). Only what ADD, DEL, CHECK, STATUS,
// GC and VERSION need is imported statically here: every module and built-in loaded at start-up is
// paid by every plugin call (docs/decisions/0012-separate-plugin-executable.md).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { CniDeps } from "./cni/cni-deps.ts";
import { findPluginInPath } from "./cni/plugin-finder.ts";
import { readPluginStdin } from "./cni/read-plugin-stdin.ts";
import { runCni } from "./cni/run-cni.ts";
import { LinuxHostFacts } from "./dataplane/linux/linux-host-facts.ts";
import { NetlinkDataplane } from "./dataplane/linux/netlink-dataplane.ts";
import type { NftTable } from "./dataplane/nft-table.ts";
import { openSqliteIpamStore } from "./datastore/local/sqlite-ipam-store.ts";
import { flushLogs, makeLogger } from "./exec/json-logger.ts";
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

export function cniDeps(env: Record<string, string | undefined>, component: string): CniDeps {
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

/** The executable's own name (or the script's, under `bun src/…`): `tartan-ipam` picks the IPAM face. */
export function invokedAs(): string {
  return (process.argv0 === "bun" ? (process.argv[1] ?? "") : process.argv0).split("/").pop() ?? "";
}

/**
 * Runs the CNI plugin (CNI_COMMAND set) or the standalone IPAM plugin (invoked as `tartan-ipam`)
 * and returns its exit code, or undefined when this process is neither.
 */
export async function runCniFaces(env: Record<string, string | undefined>): Promise<number | undefined> {
  const name = invokedAs();
  // CNI_COMMAND set, even empty, means a runtime called: answer with CNI error 4, never the CLI.
  const cniCall = env.CNI_COMMAND !== undefined;
  // Read lazily by runCni (it reads first, so even an env error answers in the config's version);
  // VERSION needs no stdin, and a runtime may give it none.
  const stdin = env.CNI_COMMAND === "VERSION" ? () => readPluginStdin().catch(() => "") : readPluginStdin;
  if (name === "tartan-ipam" || (cniCall && name.endsWith("-ipam"))) {
    // The IPAM face only: its modules are not evaluated for the plugin's calls.
    const { runIpamPlugin } = await import("./cni/run-ipam-plugin.ts");
    const out = await runIpamPlugin(cniDeps(env, "tartan-ipam"), env, stdin);
    await Promise.all([Bun.write(Bun.stdout, out.stdout), flushLogs()]);
    return out.exitCode;
  }
  if (cniCall) {
    const out = await runCni(cniDeps(env, "cni"), env, stdin);
    // The caller exits at once: the warnings logged on stderr must be out first.
    await Promise.all([Bun.write(Bun.stdout, out.stdout), flushLogs()]);
    return out.exitCode;
  }
  return undefined;
}
