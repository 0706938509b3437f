// Every `tartan …` command that the product's text sends a user to (hints, help, messages) must
// exist in the command table: five hints once sent users to `tartan ipam check` before it existed.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { isGroup, type TableEntry } from "../../src/cli/command.ts";
import { CLI_COMMANDS } from "../../src/cli/commands/cli-commands.ts";
import { commandExists } from "../../src/cli/run-command-table.ts";
import { LAB_COMMANDS } from "../../src/lab/commands/lab-commands.ts";
import { UI_COMMANDS } from "../../src/ui/commands/ui-command.ts";

const table: readonly TableEntry[] = [...CLI_COMMANDS, ...LAB_COMMANDS, ...UI_COMMANDS];
const src = resolve(import.meta.dir, "../../src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const paths = table.map((e) => e.path.join(" "));
const groups = new Set(table.filter(isGroup).map((e) => e.path.join(" ")));
const topLevel = new Set(table.map((e) => e.path[0]!));
for (const builtin of ["help", "completion"]) topLevel.add(builtin);

/**
 * The problem with `tartan W1 W2 …`, or undefined. Inside backticks the text is a command for
 * sure, so W1 must be one; in prose, "tartan writes …" is a sentence, so only a known first word
 * is checked: then every word that follows a group must be one of its subcommands.
 */
function problemOf(words: string[], quoted: boolean): string | undefined {
  if (!topLevel.has(words[0]!)) return quoted ? `"${words[0]}" is not a command` : undefined;
  let path = [words[0]!];
  for (const w of words.slice(1)) {
    const key = path.join(" ");
    if (!groups.has(key)) break;
    const next = [...path, w];
    if (!paths.includes(next.join(" ")) && !commandExists(table, next)) {
      return `"${key}" has no subcommand "${w}"`;
    }
    path = next;
  }
  return undefined;
}

describe("commands named in the product's text", () => {
  test("the checker itself flags a missing subcommand and a missing command", () => {
    expect(problemOf(["ipam", "frobnicate"], false)).toContain('no subcommand "frobnicate"');
    expect(problemOf(["explainx", "a"], true)).toContain("not a command");
    expect(problemOf(["writes", "carry"], false)).toBeUndefined();
    expect(problemOf(["lab", "pod", "add"], true)).toBeUndefined();
  });

  test("every `tartan …` in src/ names a command that exists", () => {
    const problems: string[] = [];
    for (const f of files(src)) {
      const text = readFileSync(f, "utf8");
      // Quoted: `tartan …` closed on the same line without a ${…} in between (a template
      // literal that starts with "tartan" is a sentence, not a command).
      for (const m of text.matchAll(/(`?)tartan((?: [a-z][a-z-]*)+)([^`$\n]*`)?/g)) {
        const words = m[2]!.trim().split(" ");
        const p = problemOf(words, m[1] === "`" && m[3] !== undefined);
        if (p) problems.push(`${relative(src, f)}: "tartan ${words.join(" ")}": ${p}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
