import { TartanError } from "../errors/tartan-error.ts";
import { withBuiltins } from "./builtin-commands.ts";
import {
  type Command,
  type CommandContext,
  type CommandTable,
  Exited,
  isGroup,
  type TableEntry,
} from "./command.ts";
import { parseCommandArgs, usageError } from "./command-args.ts";
import { commandHelp, groupHelp, optionsOf, topHelp } from "./command-help.ts";
import type { OutputFormat } from "./common-options.ts";
import { report } from "./report.ts";
import { requireRoot } from "./require-root.ts";

/** The entry whose path is the longest prefix of argv's leading words, and where argv goes on. */
export function findEntry(
  table: CommandTable,
  argv: readonly string[],
): { entry?: TableEntry; used: number } {
  let best: { entry?: TableEntry; used: number } = { used: 0 };
  for (const e of table) {
    const n = e.path.length;
    if (n > best.used && n <= argv.length && e.path.every((p, i) => argv[i] === p))
      best = { entry: e, used: n };
  }
  return best;
}

/** Whether `tartan <path>` is a command or a group of the table (for hints that name commands). */
export function commandExists(table: CommandTable, path: readonly string[]): boolean {
  return withBuiltins(table).some((e) => e.path.join(" ") === path.join(" "));
}

const exitCodeOf = (e: TartanError) => (e.code === "cli-usage" ? 2 : 1);

/**
 * The CLI: finds the command in the table, answers --help from the table (stdout, exit 0, never
 * running the command), checks root, parses with the one parser, runs, prints the data through
 * the reporter. Exit codes: 0 ok, 1 error, 2 usage error. Errors other than TartanError are
 * bugs: they go up to main.ts, which prints them.
 */
export async function runCommandTable(
  table: CommandTable,
  argv: readonly string[],
  ctx: CommandContext,
): Promise<number> {
  const full = withBuiltins(table);
  const { io } = ctx;
  try {
    const [first] = argv;
    if (first === undefined) {
      io.out(topHelp(full));
      return 2;
    }
    if (first === "--help" || first === "-h") {
      io.out(topHelp(full));
      return 0;
    }
    const { entry, used } = findEntry(full, first === "--version" ? ["version", ...argv.slice(1)] : argv);
    if (!entry) throw new TartanError("cli-usage", `unknown command "${first}"`, "see tartan --help");
    const rest = argv.slice(used);
    const beforeDashes = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
    const wantsHelp = beforeDashes.includes("--help") || beforeDashes.includes("-h");
    if (isGroup(entry)) {
      if (wantsHelp || rest.length === 0) {
        io.out(groupHelp(full, entry.path));
        return wantsHelp ? 0 : 2;
      }
      throw usageError(
        `unknown command "${[...entry.path, rest[0]].join(" ")}"`,
        `tartan ${entry.path.join(" ")}`,
      );
    }
    const cmd = entry as Command<never>;
    if (wantsHelp) {
      io.out(commandHelp(cmd));
      return 0;
    }
    if (cmd.needsRoot) requireRoot(`tartan ${cmd.path.join(" ")}`);
    const args = parseCommandArgs(cmd, optionsOf(cmd), rest);
    const data = await cmd.run(args, ctx);
    if (data instanceof Exited) return data.code;
    if (cmd.render) {
      const format = (args.get("output") ?? "table") as OutputFormat;
      io.out(
        report(cmd.json ? cmd.json(data) : data, format, () =>
          cmd.render!(data, { wide: format === "wide", format }),
        ),
      );
    }
    return cmd.exitCode ? cmd.exitCode(data, io, args) : 0;
  } catch (e) {
    if (e instanceof TartanError) {
      io.err(`tartan: ${e.full}\n`);
      return exitCodeOf(e);
    }
    throw e;
  }
}
