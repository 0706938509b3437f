import { TartanError } from "../../errors/tartan-error.ts";
import type { NetnsRef } from "../dataplane.ts";
import type { NftElementChange, NftTable } from "../nft-table.ts";
import {
  cloneRuleset,
  type FakeRuleset,
  NftRefusal,
  rulesetJson,
  runBlockRule,
  runStatement,
} from "./fake-nft-ruleset.ts";

/**
 * NftTable in memory: records every script and keeps a model of the tables it writes (chains
 * with hooks and rules, sets and verdict maps with their elements, named counters; see
 * fake-nft-ruleset.ts), read back as `nft list` text and `nft -j` JSON. A script applies wholly
 * or not at all, like an nft transaction, and is refused where the kernel refuses (missing
 * objects, objects still in use, overlapping intervals...). test/contract/nft-contract.ts runs
 * the same expectations against this fake and the real nftables.
 */
export class FakeNft implements NftTable {
  /** Every script applied successfully, in order. */
  readonly scripts: { netns: NetnsRef; script: string }[] = [];
  private state = new Map<NetnsRef, FakeRuleset>();
  private failures: string[] = [];

  /** Makes the next apply() fail with this message (nothing of that script is applied). */
  failNext(message = "Error: Could not process rule: Operation not permitted"): void {
    this.failures.push(message);
  }

  async apply(netns: NetnsRef, script: string): Promise<void> {
    const failure = this.failures.shift();
    if (failure !== undefined)
      throw new TartanError("nft-apply-failed", `nft transaction failed (nothing was applied): ${failure}`);
    const rs = cloneRuleset(this.state.get(netns) ?? new Map());
    runScript(rs, script);
    this.state.set(netns, rs);
    this.scripts.push({ netns, script });
  }

  /** Every element batch applied successfully (applyElements), in order. */
  readonly elementBatches: { netns: NetnsRef; table: string; changes: readonly NftElementChange[] }[] = [];

  /** Like the netlink batch: the same lines as a script, all or nothing, recorded on its own. */
  async applyElements(netns: NetnsRef, table: string, changes: readonly NftElementChange[]): Promise<void> {
    const failure = this.failures.shift();
    if (failure !== undefined)
      throw new TartanError(
        "nft-apply-failed",
        `nf_tables element batch refused (nothing was applied): ${failure}`,
      );
    const rs = cloneRuleset(this.state.get(netns) ?? new Map());
    runScript(
      rs,
      changes
        .filter((c) => c.elements.length > 0)
        .map((c) => `${c.verb} element inet ${table} ${c.set} { ${c.elements.join(", ")} }\n`)
        .join(""),
    );
    this.state.set(netns, rs);
    this.elementBatches.push({ netns, table, changes });
  }

  async list(netns: NetnsRef, family: string, table: string): Promise<string | undefined> {
    const t = this.state.get(netns)?.get(`${family} ${table}`);
    if (!t) return undefined;
    const out = [`table ${family} ${table} {`];
    for (const [name, c] of t.counters)
      out.push(`\tcounter ${name} {\n\t\tpackets ${c.packets} bytes ${c.bytes}\n\t}`);
    for (const [name, s] of t.sets) {
      out.push(`\t${s.kind} ${name} {`, `\t\ttype ${s.type.join(" . ")}${s.map ? ` : ${s.map}` : ""}`);
      if (s.interval) out.push("\t\tflags interval");
      if (s.elements.size)
        out.push(
          `\t\telements = { ${[...s.elements.values()].map((e) => (e.verdict ? `${e.key} : ${e.verdict}` : e.key)).join(", ")} }`,
        );
      out.push("\t}");
    }
    for (const [name, c] of t.chains) {
      out.push(`\tchain ${name} {`);
      if (c.hook)
        out.push(
          `\t\ttype ${c.hook.type} hook ${c.hook.hook} priority ${c.hook.prio}; policy ${c.hook.policy};`,
        );
      for (const r of c.rules)
        out.push(`\t\t${r.text}${r.comment !== undefined ? ` comment "${r.comment}"` : ""}`);
      out.push("\t}");
    }
    out.push("}");
    return `${out.join("\n")}\n`;
  }

  async listJson(netns: NetnsRef, family: string, table: string): Promise<unknown | undefined> {
    const t = this.state.get(netns)?.get(`${family} ${table}`);
    return t ? rulesetJson(t) : undefined;
  }
}

function fail(line: string, why: string): never {
  throw new TartanError(
    "nft-apply-failed",
    `nft transaction failed (nothing was applied): Error: Could not process rule: ${why}\n${line.trim()}`,
  );
}

/**
 * Runs a script's statements in order on `rs` (a copy: the caller keeps it only when all of it
 * applied). Understands one statement per line and `table F N { chain C { <hook;> <rules> } }`
 * blocks (what the masquerade renderer and tests write).
 */
function runScript(rs: FakeRuleset, script: string): void {
  let table: string | undefined; // "family name" of the enclosing `table F N {` block
  let chain: string | undefined; // the enclosing `chain C {` block
  for (const raw of script.split("\n")) {
    const line = (raw.includes('"') ? raw : raw.replace(/#.*/, "")).trim();
    if (line === "") continue;
    try {
      if (line === "}") {
        if (chain !== undefined) chain = undefined;
        else if (table !== undefined) table = undefined;
        else fail(line, "syntax error, unexpected '}'");
        continue;
      }
      if (table === undefined) {
        const t = /^(add |create )?table (\w+) ([\w.-]+)\s*\{$/.exec(line);
        if (t) {
          runStatement(rs, `${t[1]?.trim() ?? "add"} table ${t[2]} ${t[3]}`);
          table = `${t[2]} ${t[3]}`;
        } else runStatement(rs, line);
      } else if (chain === undefined) {
        const c = /^chain ([A-Za-z][\w./-]*)\s*\{$/.exec(line);
        if (!c) fail(line, "the fake nft models only chains inside a table block");
        runStatement(rs, `add chain ${table} ${c[1]}`);
        chain = c[1];
      } else {
        runBlockRule(rs, table, chain, line);
      }
    } catch (e) {
      // A refusal of the model, or a value the element parser refuses: the script fails whole.
      if (e instanceof TartanError) throw e;
      fail(line, e instanceof NftRefusal ? e.message : (e as Error).message);
    }
  }
}
