// Composition root of the CNI plugin executable, dist/cni/tartan (and dist/cni/tartan-ipam beside
// it): the CNI and IPAM faces only. A runtime starts it once per pod attachment, so its start-up is
// pod start-up latency; built apart from dist/tartan (CLI, agent, lab) so that none of their modules
// and built-ins are loaded here (docs/decisions/0012-separate-plugin-executable.md).
import { runCniFaces } from "./cni-wiring.ts";

const ABOUT =
  "tartan CNI plugin: a container runtime runs it with CNI_COMMAND set and the network config on " +
  "stdin (as `tartan`, or as `tartan-ipam` for IPAM only).\n" +
  "The CLI and the node agent are the other executable, dist/tartan (`tartan --help`).\n";

runCniFaces(process.env as Record<string, string | undefined>).then(
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
