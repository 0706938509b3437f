import { type Command, type CommandTable, isGroup, type OptionSpec, type TableEntry } from "./command.ts";
import { HELP_OPTION, OUTPUT_OPTION } from "./common-options.ts";

/** The options a command accepts: its own, `-o` when it renders data, and `-h/--help`. */
export function optionsOf(c: Command<never>): OptionSpec[] {
  // A command may declare its own `output` (get's `-o name`; diagnose's bundle file).
  const own = c.options?.some((o) => o.name === "output");
  return [...(c.options ?? []), ...(c.render && !own ? [OUTPUT_OPTION] : []), HELP_OPTION];
}

const optionText = (o: OptionSpec) =>
  `${o.short ? `-${o.short}, ` : ""}--${o.name}${o.value ? ` ${o.value}` : ""}`;

/** `tartan lab pod add NODE POD [options]`: built from the command's specs. */
export function usageLine(c: Command<never>): string {
  const parts = ["tartan", ...c.path];
  for (const o of c.options ?? [])
    if (o.required) parts.push(`${o.short ? `-${o.short}` : `--${o.name}`} ${o.value ?? ""}`.trimEnd());
  for (const a of c.args ?? []) {
    const name = a.variadic ? `${a.name}...` : a.name;
    parts.push(a.optional ? `[${name}]` : name);
  }
  if (optionsOf(c).some((o) => !o.required)) parts.push("[options]");
  if (c.rest) parts.push("--", c.rest);
  return parts.join(" ");
}

/** `tartan X --help`: usage, summary, description, options with defaults and values, examples. */
export function commandHelp(c: Command<never>): string {
  const lines = [`Usage: ${usageLine(c)}`, "", c.summary];
  if (c.description) lines.push("", c.description.trimEnd());
  const opts = optionsOf(c);
  const width = Math.max(...opts.map((o) => optionText(o).length));
  lines.push("", "Options:");
  for (const o of opts) {
    const extra = [
      o.values ? `one of: ${o.values.join(", ")}` : "",
      o.default !== undefined ? `default: ${o.default}` : "",
      o.multiple ? "repeatable" : "",
    ].filter(Boolean);
    lines.push(
      `  ${optionText(o).padEnd(width)}  ${o.description}${extra.length ? ` (${extra.join("; ")})` : ""}`,
    );
  }
  if (c.examples?.length) lines.push("", "Examples:", ...c.examples.map((e) => `  ${e}`));
  return `${lines.join("\n")}\n`;
}

const under = (e: TableEntry, path: readonly string[]) =>
  e.path.length > path.length && path.every((p, i) => e.path[i] === p);

/** The commands below a group (or all of them for the root), one line each. */
function commandList(table: CommandTable, path: readonly string[]): string {
  const cmds = table.filter((e): e is Command<never> => !isGroup(e) && !e.hidden && under(e, path));
  const rows = cmds.map((c) => [usageLine(c).replace(/ \[options\]/, ""), c.summary] as const);
  const width = Math.min(48, Math.max(...rows.map(([u]) => u.length)));
  return rows
    .map(([u, s]) =>
      u.length > width ? `  ${u}\n  ${"".padEnd(width)}  ${s}` : `  ${u.padEnd(width)}  ${s}`,
    )
    .join("\n");
}

/** `tartan lab --help`: the group's text and its subcommands. */
export function groupHelp(table: CommandTable, path: readonly string[]): string {
  const g = table.find((e) => isGroup(e) && e.path.join(" ") === path.join(" "));
  const head = g ? [g.summary, ...(g.description ? ["", g.description.trimEnd()] : [])] : [];
  return `${[
    `Usage: tartan ${path.join(" ")} COMMAND [options]`,
    "",
    ...head,
    "",
    "Commands:",
    commandList(table, path),
    "",
    `Run 'tartan ${path.join(" ")} COMMAND --help' for a command's options.`,
  ].join("\n")}\n`;
}

/** `tartan`, `tartan help`, `tartan --help`: every command. */
export function topHelp(table: CommandTable): string {
  return `tartan — container networking for Kubernetes (the node agent, the CLI and the lab)

Usage: tartan COMMAND [options]

Commands:
${commandList(table, [])}

Run 'tartan COMMAND --help' for a command's options. Exit codes: 0 ok, 1 error, 2 usage error.

The CNI plugin is its own, smaller executable: install cni/tartan (dist/cni/tartan after a build)
as /opt/cni/bin/tartan, with the symlink tartan-ipam beside it for IPAM-only delegation; the
runtime runs it with CNI_COMMAND set. This file answers CNI_COMMAND too, but starts slower.
See README.md.
`;
}
