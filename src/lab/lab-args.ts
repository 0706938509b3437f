import { TartanError } from "../errors/tartan-error.ts";

export interface LabArgs {
  positional: string[];
  options: Map<string, string>;
  flags: Set<string>;
  /** Everything after `--` (the command of `lab exec`). */
  rest: string[];
}

/**
 * The lab commands' arguments: `--opt value` or `--opt=value` for the options that take one,
 * bare flags, positionals, and everything after `--` untouched. Unknown options are errors, so
 * a typo never silently changes what the lab builds.
 */
export function parseLabArgs(
  args: string[],
  valueOptions: readonly string[],
  flagOptions: readonly string[] = [],
): LabArgs {
  const out: LabArgs = { positional: [], options: new Map(), flags: new Set(), rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.rest = args.slice(i + 1);
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const key = eq > 0 ? a.slice(0, eq) : a;
    const name = key === "-o" ? "--output" : key;
    if (valueOptions.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined)
        throw new TartanError("cli-usage", `${key} needs a value`, "see tartan lab --help");
      out.options.set(name, v);
    } else if (flagOptions.includes(name) && eq < 0) {
      out.flags.add(name);
    } else {
      throw new TartanError("cli-usage", `unknown option ${key}`, "see tartan lab --help");
    }
  }
  return out;
}
