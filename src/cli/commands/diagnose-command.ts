import { writeFileSync } from "node:fs";
import { TartanError } from "../../errors/tartan-error.ts";
import { run } from "../../exec/run.ts";
import { type Collected, collectNode } from "../collect-diagnostics.ts";
import { defineCommand, Exited } from "../command.ts";
import { usageError } from "../command-args.ts";
import { formatStatusDetail, formatStatusSummary } from "../format-status.ts";
import { type TarEntry, tarGz } from "../tar-gz.ts";
import { versionInfo } from "../version-info.ts";
import { AGENT_OPTIONS, collectStatus } from "./status-command.ts";

/** The agent config outside a lab (a lab knows each node's). */
const DEFAULT_AGENT_CONFIG = "/etc/tartan/agent.yaml";
/** The whole bundle, uncompressed: past it the biggest files are cut. */
const BUNDLE_LIMIT = 16 << 20;
const TOP = "tartan-diagnose";

async function versions(): Promise<string> {
  const v = versionInfo();
  const lines = [`tartan ${v.version} (${v.runtime}; CNI ${v.cniVersions.join(", ")})`];
  for (const argv of [
    ["uname", "-srm"],
    ["nft", "--version"],
    ["ip", "-V"],
  ]) {
    try {
      const r = await run(argv, { timeoutMs: 3000, allowFailure: true });
      lines.push(`${argv[0]}: ${(r.stdout || r.stderr).trim()}`);
    } catch (e) {
      lines.push(`${argv[0]}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Keeps the bundle under the limit by cutting the largest files first (said in the manifest). */
function bounded(files: TarEntry[], notes: string[], limit = BUNDLE_LIMIT): TarEntry[] {
  const size = (f: TarEntry) => (typeof f.content === "string" ? f.content.length : f.content.length);
  let total = files.reduce((n, f) => n + size(f), 0);
  const bySize = [...files].sort((a, b) => size(b) - size(a));
  for (const f of bySize) {
    if (total <= limit) break;
    const keep = Math.max(0, size(f) - (total - limit));
    total -= size(f) - keep;
    f.content = `${String(f.content).slice(0, keep)}\n[truncated to keep the bundle under ${limit} bytes]\n`;
    notes.push(`${f.path}: cut to ${keep} bytes (bundle limit)`);
  }
  return files;
}

/**
 * `tartan diagnose -o FILE.tar.gz`: one bundle for a support ticket. The status of every node
 * asked, then per node its config (secrets redacted), the `inet tartan` ruleset, the routes,
 * neighbours and FDB entries tartan owns, the IPAM store summary and the agent log's tail, plus
 * versions. A node whose agent is down still gets its kernel state and log (the lab knows where
 * they are); what could not be read is listed in MANIFEST.txt. Exit 1 when some agent did not
 * answer (the bundle is written all the same).
 */
export const diagnoseCommand = defineCommand({
  path: ["diagnose"],
  summary: "write a support bundle: status, config (redacted), nft ruleset, routes, IPAM, agent log",
  description:
    "Asks the agents like tartan status (a lab's every node, or --node; else this host's agent)\n" +
    "and reads each node's kernel state in its namespace. Bounded: 1 MiB per file, 16 MiB in all.",
  options: [
    ...AGENT_OPTIONS,
    {
      name: "config",
      value: "FILE",
      description: `outside a lab: the agent's config (default ${DEFAULT_AGENT_CONFIG})`,
      complete: "file",
    },
    {
      name: "output",
      short: "o",
      value: "FILE.tar.gz",
      description: "where to write the bundle",
      required: true,
      complete: "file",
    },
  ],
  examples: ["tartan diagnose -o /tmp/tartan-diag.tar.gz", "tartan diagnose --node node-2 -o node-2.tar.gz"],
  needsRoot: true,
  run: async (args, ctx) => {
    if (args.has("node") && args.flag("all"))
      throw usageError("--node and --all cannot be combined", "tartan diagnose");
    const out = args.get("output")!;
    const status = await collectStatus({
      node: args.get("node"),
      all: args.flag("all"),
      lab: args.get("lab"),
      socket: args.get("socket"),
    });
    const notes: string[] = [];
    const files: TarEntry[] = [
      { path: `${TOP}/version.txt`, content: await versions() },
      {
        path: `${TOP}/status.json`,
        content: `${JSON.stringify({ ...(status.lab ? { lab: status.lab } : {}), nodes: status.nodes }, null, 2)}\n`,
      },
      {
        path: `${TOP}/status.txt`,
        content: [formatStatusSummary(status.nodes), ...status.nodes.map(formatStatusDetail)].join("\n"),
      },
    ];
    // Outside a lab the kernel read is this host's: name it after the agent that answered here,
    // and do not file this host's state under another node's name.
    const here = status.here;
    const wanted = args.get("node");
    if (here && wanted && wanted !== here) {
      throw new TartanError(
        "cli-usage",
        `this host is node ${here}: diagnose reads this host's kernel and log, not node ${wanted}'s`,
        `run tartan diagnose on node ${wanted}`,
      );
    }
    const parts: Collected[] = await Promise.all(
      status.refs.map((ref) => {
        const name = status.lab ? ref.node : (here ?? (ref.node === "-" ? "this-host" : ref.node));
        const dir = `${TOP}/${name.replace(/[^A-Za-z0-9._-]/g, "_")}`;
        return collectNode(dir, ref, ref.configFile ?? args.get("config") ?? DEFAULT_AGENT_CONFIG, ctx);
      }),
    );
    for (const p of parts) {
      files.push(...p.files);
      notes.push(...p.notes);
    }
    bounded(files, notes);
    const unreachable = status.nodes
      .filter((n) => !n.reachable && !n.remote)
      .map((n) => `${n.name}: ${n.verdict}`);
    const manifest = [
      `tartan diagnose, ${new Date().toISOString()}${status.lab ? `, lab ${status.lab}` : ""}`,
      "",
      "files:",
      ...files.map((f) => `  ${f.path}  ${String(f.content).length} bytes`),
      "",
      "not collected:",
      ...(notes.length ? notes.map((n) => `  ${n}`) : ["  (nothing)"]),
      "",
      "agents that did not answer:",
      ...(unreachable.length ? unreachable.map((u) => `  ${u}`) : ["  (none)"]),
      "",
    ].join("\n");
    files.unshift({ path: `${TOP}/MANIFEST.txt`, content: manifest });
    writeFileSync(out, tarGz(files), { mode: 0o600 });
    ctx.io.out(
      `wrote ${out}: ${files.length} files from ${status.nodes.length} node(s)` +
        `${notes.length ? `; ${notes.length} item(s) not collected (see MANIFEST.txt)` : ""}\n`,
    );
    for (const u of unreachable) ctx.io.err(`tartan: node ${u}\n`);
    return new Exited(unreachable.length ? 1 : 0);
  },
});
