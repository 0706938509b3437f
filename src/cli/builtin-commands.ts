import { type Command, type CommandTable, defineCommand, Exited, isGroup } from "./command.ts";
import { usageError } from "./command-args.ts";
import { commandHelp, groupHelp, topHelp } from "./command-help.ts";
import { completionScript, SHELLS, type Shell } from "./completion-script.ts";

/** The table plus the commands made from it: `help` and `completion`. */
export function withBuiltins(table: CommandTable): CommandTable {
  if (table.some((e) => e.path[0] === "help")) return table;
  const full: CommandTable = [
    ...table,
    defineCommand({
      path: ["help"],
      summary: "show the help of tartan or of a command",
      args: [{ name: "COMMAND", optional: true, variadic: true }],
      examples: ["tartan help lab pod add"],
      run: async (args, ctx) => {
        const path = args.positionals;
        if (path.length === 0) {
          ctx.io.out(topHelp(full));
          return new Exited(0);
        }
        const entry = full.find((e) => e.path.join(" ") === path.join(" "));
        if (!entry) throw usageError(`unknown command "${path.join(" ")}"`, "tartan");
        ctx.io.out(isGroup(entry) ? groupHelp(full, entry.path) : commandHelp(entry as Command<never>));
        return new Exited(0);
      },
    }),
    defineCommand({
      path: ["completion"],
      summary: "print a shell completion script (bash or zsh)",
      description:
        "bash: source <(tartan completion bash), or save it in /etc/bash_completion.d/tartan.\n" +
        "zsh: source <(tartan completion zsh) in ~/.zshrc, after compinit.",
      args: [{ name: "SHELL", values: SHELLS }],
      examples: ["source <(tartan completion bash)"],
      run: async (args, ctx) => {
        ctx.io.out(completionScript(full, args.positionals[0] as Shell));
        return new Exited(0);
      },
    }),
  ];
  return full;
}
