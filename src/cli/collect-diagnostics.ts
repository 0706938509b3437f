import { existsSync, readFileSync } from "node:fs";
import { parseAgentConfig } from "../agent/agent-config.ts";
import { AgentClient } from "../api/agent-client.ts";
import { run } from "../exec/run.ts";
import { AGENT_LOG_PATH } from "../model/agent-api.ts";
import type { AgentRef } from "./agent-refs.ts";
import type { CommandContext } from "./command.ts";
import { fileTail, LOG_LINES } from "./file-tail.ts";
import { ipamList } from "./ipam-list.ts";
import { redactConfig } from "./redact-config.ts";
import type { TarEntry } from "./tar-gz.ts";

/** Per file and in total: a bundle for a ticket stays small whatever the node holds. */
export const FILE_LIMIT = 1 << 20;
export const BUNDLE_LIMIT = 16 << 20;
const COMMAND_TIMEOUT_MS = 5000;

export interface Collected {
  files: TarEntry[];
  /** What could not be collected, and why (the bundle says so instead of failing). */
  notes: string[];
}

/** At most `limit` bytes of text; the cut is said at the end. */
export function capped(text: string, limit = FILE_LIMIT): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}\n[truncated: ${text.length - limit} more bytes]\n`;
}

/** What tartan owns in a node's kernel, read with the field's tools in the node's namespace. */
const KERNEL_READS: { file: string; argv: string[] }[] = [
  { file: "nft-ruleset.txt", argv: ["nft", "list", "table", "inet", "tartan"] },
  { file: "routes.txt", argv: ["ip", "-d", "route", "show", "proto", "201"] },
  { file: "routes6.txt", argv: ["ip", "-6", "-d", "route", "show", "proto", "201"] },
  { file: "neighbours.txt", argv: ["ip", "neigh", "show", "nud", "permanent"] },
  { file: "fdb.txt", argv: ["bridge", "fdb", "show", "dev", "tartan.vxlan"] },
  { file: "links.txt", argv: ["ip", "-d", "link", "show", "type", "vxlan"] },
  { file: "bridge.txt", argv: ["ip", "-d", "addr", "show", "dev", "tartan0"] },
];

/**
 * One node's part of `tartan diagnose`: its config with secrets redacted, the kernel objects
 * tartan owns (in the lab read inside the node's namespace, else on this host), the IPAM store
 * summary, and the agent log's tail (the lab's log file, else the agent's in-memory tail). Every
 * read is bounded in time and size, and one that fails becomes a note, not a failed bundle:
 * diagnose is used when things are broken.
 */
export async function collectNode(
  dir: string,
  ref: AgentRef,
  configFile: string | undefined,
  ctx: CommandContext,
): Promise<Collected> {
  const files: TarEntry[] = [];
  const notes: string[] = [];
  const netns = ref.netns ? `/run/netns/${ref.netns}` : undefined;
  let ipamDir: string | undefined;
  if (configFile && existsSync(configFile)) {
    try {
      const text = readFileSync(configFile, "utf8");
      files.push({ path: `${dir}/config.yaml`, content: capped(redactConfig(text)) });
      ipamDir = parseAgentConfig(text).ipamDataDir;
    } catch (e) {
      notes.push(`${dir}: config ${configFile}: ${(e as Error).message}`);
    }
  } else notes.push(`${dir}: no agent config at ${configFile ?? "(none given)"} (give --config FILE)`);

  const kernel = await Promise.all(
    KERNEL_READS.map(async (k): Promise<TarEntry | undefined> => {
      try {
        const r = await run(k.argv, {
          ...(netns ? { netns } : {}),
          timeoutMs: COMMAND_TIMEOUT_MS,
          allowFailure: true,
        });
        const text = r.code === 0 ? r.stdout : `# ${k.argv.join(" ")} exited ${r.code}\n${r.stderr}`;
        return { path: `${dir}/${k.file}`, content: capped(`# ${k.argv.join(" ")}\n${text}`) };
      } catch (e) {
        notes.push(`${dir}: ${k.argv.join(" ")}: ${(e as Error).message.split("\n")[0]}`);
        return undefined;
      }
    }),
  );
  for (const f of kernel) if (f) files.push(f);

  if (ipamDir && ctx.openIpamStoreReadOnly) {
    try {
      const store = ctx.openIpamStoreReadOnly(ipamDir);
      try {
        const l = ipamList(store, ipamDir);
        const summary = {
          dataDir: l.dataDir,
          networks: l.networks.map((n) => ({
            network: n.network,
            addresses: n.allocations.length,
            attachments: n.attachments,
            allocations: n.allocations.slice(0, 2000),
          })),
        };
        files.push({ path: `${dir}/ipam.json`, content: capped(`${JSON.stringify(summary, null, 2)}\n`) });
      } finally {
        store.close();
      }
    } catch (e) {
      notes.push(`${dir}: IPAM store ${ipamDir}: ${(e as Error).message.split("\n")[0]}`);
    }
  }

  let log: string | undefined;
  if (ref.logFile && existsSync(ref.logFile)) {
    try {
      log = fileTail(ref.logFile);
    } catch (e) {
      notes.push(`${dir}: log ${ref.logFile}: ${(e as Error).message}`);
    }
  }
  if (log === undefined) {
    try {
      const r = await new AgentClient(ref.socket).request<{ lines: string[] }>({
        method: "GET",
        path: `${AGENT_LOG_PATH}?lines=${LOG_LINES}`,
        timeoutMs: 3000,
        doing: "reading the agent's log tail",
      });
      log = `${r.lines.join("\n")}\n`;
    } catch (e) {
      notes.push(`${dir}: agent log: ${(e as Error).message}`);
    }
  }
  if (log !== undefined) files.push({ path: `${dir}/agent.log`, content: capped(log, 512 << 10) });
  return { files, notes };
}
