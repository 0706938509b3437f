// Composition root of the CNI plugin executable, dist/cni/tartan (and dist/cni/tartan-ipam beside
// it): the CNI and IPAM faces only. A runtime starts it once per pod attachment, so its start-up is
// pod start-up latency; built apart from dist/tartan (CLI, agent, lab) so that none of their modules
// and built-ins are loaded here (docs/decisions/0012-separate-plugin-executable.md).
//
// VERSION (which runtimes call before anything else, and which measures the start-up floor) is
// answered from stdin alone, before the rest of the plugin is evaluated: the wiring is a dynamic
// import, which the build splits into chunks of their own (scripts/build.ts), so VERSION loads
// neither them nor the built-ins they import (node:fs, bun:sqlite: ~2–4 ms each at start-up).
// VERSION reads stdin by blocking read(2) calls through bun:ffi (readVersionStdin), the one
// built-in it loads: ~1–2.5 ms less CPU than Bun's stream reader of fd 0 (its thread pool), and
// than node:fs's readSync, whose module alone costs ~3–4 ms (ADD and DEL load node:fs anyway).
import { delegationDepth, MAX_DELEGATION_DEPTH } from "./cni/delegation-depth.ts";
import { readVersionStdin } from "./cni/read-version-stdin.ts";
import { versionAnswer } from "./cni/version-answer.ts";

const ABOUT =
  "tartan CNI plugin: a container runtime runs it with CNI_COMMAND set and the network config on " +
  "stdin (as `tartan`, or as `tartan-ipam` for IPAM only).\n" +
  "The CLI and the node agent are the other executable, dist/tartan (`tartan --help`).\n";

const env = process.env as Record<string, string | undefined>;

async function main(): Promise<number | undefined> {
  // Past the delegation limit, VERSION too is answered with the error (runCni does that).
  if (env.CNI_COMMAND === "VERSION" && delegationDepth(env) <= MAX_DELEGATION_DEPTH) {
    await Bun.write(Bun.stdout, versionAnswer(await readVersionStdin().catch(() => "")));
    return 0;
  }
  const { runCniFaces } = await import("./cni-wiring.ts");
  return await runCniFaces(env);
}

main().then(
  async (code) => {
    // Neither face: a person ran it by hand. Say what it is, as the reference plugins do.
    if (code === undefined) await Bun.write(Bun.stderr, ABOUT);
    process.exit(code ?? 1);
  },
  async (e) => {
    // Awaited: process.exit right after an unawaited write can lose the message.
    await Bun.write(Bun.stderr, `tartan: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
