import { TartanError } from "../../errors/tartan-error.ts";
import type { NetnsRef } from "../dataplane.ts";
import type { NftTable } from "../nft-table.ts";

type Tables = Map<string, Set<string>>; // "family name" -> chain names

/**
 * NftTable in memory: records every script, and keeps a tiny model of which tables and chains
 * exist (add/create/delete/flush table, add/create/delete chain, `table ... { chain ... {`
 * blocks), enough for callers to assert what they set up and tore down. A script applies
 * wholly or not at all, like an nft transaction.
 */
export class FakeNft implements NftTable {
  /** Every script applied successfully, in order. */
  readonly scripts: { netns: NetnsRef; script: string }[] = [];
  private state = new Map<NetnsRef, Tables>();
  private failures: string[] = [];

  /** Makes the next apply() fail with this message (nothing of that script is applied). */
  failNext(message = "Error: Could not process rule: Operation not permitted"): void {
    this.failures.push(message);
  }

  async apply(netns: NetnsRef, script: string): Promise<void> {
    const failure = this.failures.shift();
    if (failure !== undefined)
      throw new TartanError("nft-apply-failed", `nft transaction failed (nothing was applied): ${failure}`);
    const tables: Tables = new Map(
      [...(this.state.get(netns) ?? new Map())].map(([k, v]) => [k, new Set(v)]),
    );
    runScript(tables, script);
    this.state.set(netns, tables);
    this.scripts.push({ netns, script });
  }

  async list(netns: NetnsRef, family: string, table: string): Promise<string | undefined> {
    const chains = this.state.get(netns)?.get(`${family} ${table}`);
    if (!chains) return undefined;
    const body = [...chains].map((c) => `\tchain ${c} {\n\t}\n`).join("");
    return `table ${family} ${table} {\n${body}}\n`;
  }

  async listJson(netns: NetnsRef, family: string, table: string): Promise<unknown | undefined> {
    const chains = this.state.get(netns)?.get(`${family} ${table}`);
    if (!chains) return undefined;
    return {
      nftables: [
        { table: { family, name: table } },
        ...[...chains].map((name) => ({ chain: { family, table, name } })),
      ],
    };
  }
}

function fail(line: string, why: string): never {
  throw new TartanError(
    "nft-apply-failed",
    `nft transaction failed (nothing was applied): ${why}: ${line.trim()}`,
  );
}

function statement(tables: Tables, line: string, table: string | undefined): void {
  let m = /^(delete|destroy|flush) table (\w+) ([\w.-]+)/.exec(line);
  if (m) {
    const key = `${m[2]} ${m[3]}`;
    if (!tables.has(key) && m[1] !== "destroy") fail(line, "No such file or directory");
    // flush empties rules and sets; the chains stay.
    if (m[1] !== "flush") tables.delete(key);
    return;
  }
  m = /^delete chain (\w+) ([\w.-]+) ([\w./-]+)/.exec(line);
  if (m) {
    if (!tables.get(`${m[1]} ${m[2]}`)?.delete(m[3]!)) fail(line, "No such file or directory");
    return;
  }
  m = /^(add |create )?chain (?:(\w+) ([\w.-]+) )?([\w./-]+)/.exec(line);
  if (m) {
    const key = m[2] ? `${m[2]} ${m[3]}` : table;
    const chains = key === undefined ? undefined : tables.get(key);
    if (!chains) fail(line, "No such file or directory");
    chains.add(m[4]!);
  }
}

/** Applies the statements the model understands; everything else (rules, sets) is accepted as is. */
function runScript(tables: Tables, script: string): void {
  let table: string | undefined; // the table of the enclosing `table F N {` block
  let depth = 0;
  for (const raw of script.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const t = /^(add |create )?table (\w+) ([\w.-]+)\s*(\{)?/.exec(line);
    if (t && depth === 0) {
      const key = `${t[2]} ${t[3]}`;
      if (t[1] === "create " && tables.has(key)) fail(line, "File exists");
      if (!tables.has(key)) tables.set(key, new Set());
      if (t[4]) table = key;
    } else if (depth <= 1) {
      statement(tables, line, table);
    }
    depth += (line.match(/\{/g)?.length ?? 0) - (line.match(/\}/g)?.length ?? 0);
    if (depth <= 0) {
      depth = 0;
      table = undefined;
    }
  }
}
