import { Explainer } from "../../calc/explain.ts";
import { defineCommand, Exited } from "../../cli/command.ts";
import type { CommandArgs } from "../../cli/command-args.ts";
import { parsePortOption } from "../../cli/commands/explain-command.ts";
import { TARGET_OPTIONS } from "../../cli/commands/objects-target.ts";
import { formatExplanation } from "../../cli/format-explanation.ts";
import { pickLab } from "../../cli/labs-up.ts";
import { readSnapshotTarget } from "../../cli/snapshot-target.ts";
import { TartanError } from "../../errors/tartan-error.ts";
import { stopSignal } from "../../exec/stop-signal.ts";
import { isRoutingBackend } from "../../model/routing-backend.ts";
import { viewSource } from "../cluster-view.ts";
import { type ExplainFn, serveUi } from "../ui-server.ts";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** "127.0.0.1:9648", "[::1]:0", "localhost:8080" → host and port. */
export function parseListen(text: string): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) {
    throw new TartanError("cli-usage", `--listen must be HOST:PORT (e.g. 127.0.0.1:9648), got "${text}"`);
  }
  return { hostname: (m[1] ?? m[2])!, port };
}

/**
 * Explain for the page: the explain command's computation (calc/explain.ts) on a fresh snapshot
 * of the cluster's objects from the same target options (--lab, --datastore, --config), plus its
 * text as the CLI prints it.
 */
const explainWith =
  (args: CommandArgs): ExplainFn =>
  async (src, dst, port) => {
    const { snapshot, lab } = await readSnapshotTarget(args);
    const backend = lab?.backend;
    const e = new Explainer({
      ...snapshot,
      ...(backend && isRoutingBackend(backend) ? { backend } : {}),
    }).explain({
      src,
      dst,
      ...(port ? parsePortOption(port) : {}),
    });
    return { ...e, text: formatExplanation(e) };
  };

/** `tartan ui`: serves the web view until interrupted. */
export const uiCommand = defineCommand<never>({
  path: ["ui"],
  summary: "a web view of the cluster: nodes, pods, isolation, the matrix, live drops, explain for a pair",
  description:
    "Serves a page (on loopback unless told otherwise) that draws the nodes with their pods by\n" +
    "namespace, the backend between them, which pods are isolated and by which policies, the last\n" +
    "`tartan lab matrix`, and the drops by policy as they happen; click two pods (or a matrix cell) to\n" +
    "explain the pair. Everything is bundled in this executable. Runs until interrupted.",
  options: [
    {
      name: "listen",
      value: "HOST:PORT",
      description: "where to serve (port 0: any free port; the URL is printed)",
      default: "127.0.0.1:9648",
    },
    ...TARGET_OPTIONS,
    { name: "socket", value: "PATH", description: "not a lab: the agent at this socket", complete: "file" },
  ],
  examples: ["tartan ui", "tartan ui --lab lab1 --listen 127.0.0.1:8080"],
  needsRoot: true,
  run: async (args, ctx) => {
    const { hostname, port } = parseListen(args.get("listen")!);
    if (!LOOPBACK.has(hostname)) {
      ctx.io.err(
        `tartan ui: warning: listening on ${hostname}, not loopback: anyone who reaches it sees the cluster and can run a matrix\n`,
      );
    }
    const socket = args.get("socket");
    const lab = socket ? args.get("lab") : pickLab(args.get("lab"));
    const ui = serveUi({ hostname, port, source: viewSource(lab, socket), explain: explainWith(args) });
    ctx.io.out(`tartan ui: serving ${ui.url}${lab ? ` (lab ${lab})` : ""}; Ctrl-C to stop\n`);
    await stopSignal();
    await ui.stop();
    return new Exited(0);
  },
});

export const UI_COMMANDS = [uiCommand] as const;
