import { type Command, type CommandTable, isGroup } from "./command.ts";
import { optionsOf } from "./command-help.ts";

export const SHELLS = ["bash", "zsh"] as const;
export type Shell = (typeof SHELLS)[number];

/** A `case` function mapping keys to space-separated words; portable between bash and zsh. */
function caseFunction(name: string, entries: Map<string, string[]>): string {
  const arms = [...entries]
    .filter(([, words]) => words.length > 0)
    .map(([key, words]) => `    ${JSON.stringify(key)}) echo ${JSON.stringify(words.join(" "))} ;;`);
  return `${name}() {\n  case "$1" in\n${arms.join("\n")}\n  esac\n}\n`;
}

/**
 * The completion data as shell functions, all from the table: the subcommands of each group,
 * the options of each command, which options take a value, the values they accept (or files),
 * and the values of positionals (resource kinds, shells).
 */
function tableFunctions(table: CommandTable): string {
  const visible = table.filter((e) => isGroup(e) || !(e as Command<never>).hidden);
  const children = new Map<string, string[]>();
  const options = new Map<string, string[]>();
  const valueOptions = new Map<string, string[]>();
  const optionValues = new Map<string, string[]>();
  const argValues = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, k: string, v: string) => {
    const list = m.get(k) ?? [];
    if (!list.includes(v)) list.push(v);
    m.set(k, list);
  };
  for (const e of visible) {
    for (let i = 0; i < e.path.length; i++) add(children, e.path.slice(0, i).join(" "), e.path[i]!);
    const key = e.path.join(" ");
    if (isGroup(e)) {
      options.set(key, ["--help", "-h"]);
      continue;
    }
    const c = e as Command<never>;
    for (const o of optionsOf(c)) {
      const forms = [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])];
      for (const f of forms) {
        add(options, key, f);
        if (o.value === undefined) continue;
        add(valueOptions, key, f);
        const vals = o.values ? [...o.values] : o.complete ? [`__${o.complete}__`] : [];
        optionValues.set(`${key} ${f}`, vals);
      }
    }
    (c.args ?? []).forEach((a, i) => {
      const vals = a.values ?? a.suggest;
      if (vals) argValues.set(`${key} ${i}`, [...vals]);
    });
  }
  if (!options.has("")) options.set("", ["--help", "-h"]);
  return [
    caseFunction("_tartan_children", children),
    caseFunction("_tartan_options", options),
    caseFunction("_tartan_value_options", valueOptions),
    caseFunction("_tartan_option_values", optionValues),
    caseFunction("_tartan_arg_values", argValues),
  ].join("\n");
}

// The completer: walks COMP_WORDS down the command tree, counts positionals (skipping option
// values), then offers option values, options, subcommands or positional values. `cpath`, not
// `path`: in zsh `path` is the array tied to PATH.
const COMPLETER = `_tartan() {
  local cur prev cpath="" i=1 w n=0 vopts vals kids
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev=""
  if [ "$COMP_CWORD" -gt 0 ]; then prev="\${COMP_WORDS[COMP_CWORD-1]}"; fi
  COMPREPLY=()
  while [ "$i" -lt "$COMP_CWORD" ]; do
    w="\${COMP_WORDS[i]}"
    case " $(_tartan_children "$cpath") " in
      *" $w "*) cpath="\${cpath:+$cpath }$w"; i=$((i + 1)); continue ;;
    esac
    break
  done
  vopts=" $(_tartan_value_options "$cpath") "
  while [ "$i" -lt "$COMP_CWORD" ]; do
    w="\${COMP_WORDS[i]}"
    if [ "$w" = "--" ]; then return 0; fi
    case "$w" in
      -*=*) ;;
      -*) case "$vopts" in *" $w "*) i=$((i + 1)) ;; esac ;;
      *) n=$((n + 1)) ;;
    esac
    i=$((i + 1))
  done
  case "$vopts" in
    *" $prev "*)
      if [ "$prev" != "" ]; then
        vals="$(_tartan_option_values "$cpath $prev")"
        case "$vals" in
          __file__) COMPREPLY=($(compgen -f -- "$cur")) ;;
          __dir__) COMPREPLY=($(compgen -d -- "$cur")) ;;
          *) COMPREPLY=($(compgen -W "$vals" -- "$cur")) ;;
        esac
        return 0
      fi
      ;;
  esac
  case "$cur" in
    -*) COMPREPLY=($(compgen -W "$(_tartan_options "$cpath")" -- "$cur")); return 0 ;;
  esac
  kids="$(_tartan_children "$cpath")"
  if [ -n "$kids" ] && [ "$n" -eq 0 ]; then
    COMPREPLY=($(compgen -W "$kids" -- "$cur"))
    return 0
  fi
  COMPREPLY=($(compgen -W "$(_tartan_arg_values "$cpath $n")" -- "$cur"))
}
`;

/** `tartan completion bash|zsh`: the script, generated from the command table. */
export function completionScript(table: CommandTable, shell: Shell): string {
  const head =
    shell === "bash"
      ? "# bash completion for tartan (generated from its command table by `tartan completion bash`).\n" +
        "# Use: source <(tartan completion bash), or save it as /etc/bash_completion.d/tartan.\n"
      : "# zsh completion for tartan (generated from its command table by `tartan completion zsh`).\n" +
        "# Use, in ~/.zshrc after compinit: source <(tartan completion zsh)\n" +
        "# zsh runs the bash completer through bashcompinit (zsh's own bash-compatibility layer).\n" +
        "autoload -U +X bashcompinit && bashcompinit\n";
  return `${head}\n${tableFunctions(table)}\n${COMPLETER}\ncomplete -F _tartan tartan\n`;
}
