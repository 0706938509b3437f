import { TartanError } from "../errors/tartan-error.ts";
import type { ArgSpec, OptionSpec } from "./option-spec.ts";

/** What the parser needs to know of a command besides its options. */
export interface ArgShape {
  path: readonly string[];
  args?: readonly ArgSpec[];
  rest?: string;
}

/** The parsed arguments of one command; values already checked against its option specs. */
export class CommandArgs {
  constructor(
    readonly positionals: readonly string[],
    private readonly values: ReadonlyMap<string, readonly string[]>,
    private readonly specs: readonly OptionSpec[],
    /** Everything after `--`. */
    readonly rest: readonly string[],
    private readonly where: string,
  ) {}

  /** The option's value (its last one), else its default. */
  get(name: string): string | undefined {
    return this.values.get(name)?.at(-1) ?? this.spec(name).default;
  }

  /** Every value of a `multiple` option, in order. */
  all(name: string): string[] {
    this.spec(name);
    return [...(this.values.get(name) ?? [])];
  }

  flag(name: string): boolean {
    this.spec(name);
    return this.values.has(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** An integer option within [min, max], else a usage error. */
  int(name: string, min: number, max: number): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw usageError(`--${name} must be an integer from ${min} to ${max}, got "${v}"`, this.where);
    }
    return n;
  }

  private spec(name: string): OptionSpec {
    const s = this.specs.find((o) => o.name === name);
    // A command asking for an option it does not declare is a bug in that command module.
    if (!s) throw new Error(`${this.where}: option --${name} is not declared`);
    return s;
  }
}

export const usageError = (message: string, where: string) =>
  new TartanError("cli-usage", message, `see ${where} --help`);

/**
 * The one argument parser of every command: `--opt VALUE`, `--opt=VALUE`, `-o VALUE`, `-oVALUE`,
 * flags, positionals, `-` as a positional (stdin), and everything after `--` untouched. Unknown
 * options, missing values, values outside an option's list and a wrong number of positionals are
 * usage errors that name the command's help, so a typo never silently changes what runs.
 */
export function parseCommandArgs(
  cmd: ArgShape,
  options: readonly OptionSpec[],
  argv: readonly string[],
): CommandArgs {
  const where = `tartan ${cmd.path.join(" ")}`;
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  let rest: string[] = [];
  const byLong = new Map(options.map((o) => [o.name, o]));
  const byShort = new Map(options.filter((o) => o.short).map((o) => [o.short!, o]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest = argv.slice(i + 1);
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positionals.push(a);
      continue;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    let shown: string;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      shown = eq > 0 ? a.slice(0, eq) : a;
      spec = byLong.get(shown.slice(2));
      if (eq > 0) inline = a.slice(eq + 1);
    } else {
      shown = a.slice(0, 2);
      spec = byShort.get(a[1]!);
      if (a.length > 2) inline = a[2] === "=" ? a.slice(3) : a.slice(2);
    }
    if (!spec) throw usageError(`unknown option ${shown}`, where);
    let v: string;
    if (spec.value === undefined) {
      if (inline !== undefined) throw usageError(`${shown} takes no value`, where);
      v = "";
    } else if (inline !== undefined) {
      v = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined || next === "--")
        throw usageError(`${shown} needs a value (${spec.value})`, where);
      v = next;
      i++;
    }
    if (spec.values && !spec.values.includes(v)) {
      throw usageError(`${shown} "${v}" is not one of ${spec.values.join(", ")}`, where);
    }
    const list = values.get(spec.name) ?? [];
    if (list.length > 0 && !spec.multiple && spec.value !== undefined && list[0] !== v) {
      throw usageError(`${shown} given twice ("${list[0]}" and "${v}")`, where);
    }
    values.set(spec.name, [...list, v]);
  }
  for (const o of options) {
    if (o.required && !values.has(o.name))
      throw usageError(`missing --${o.name} ${o.value ?? ""}`.trimEnd(), where);
  }
  checkArity(cmd, positionals, rest, argv, where);
  return new CommandArgs(positionals, values, options, rest, where);
}

function checkArity(
  cmd: ArgShape,
  positionals: string[],
  rest: string[],
  argv: readonly string[],
  where: string,
): void {
  const specs = cmd.args ?? [];
  const required = specs.filter((s) => !s.optional).length;
  const variadic = specs.some((s) => s.variadic);
  if (positionals.length < required) {
    const missing = specs.filter((s) => !s.optional)[positionals.length]!;
    throw usageError(`missing ${missing.name}`, where);
  }
  if (!variadic && positionals.length > specs.length) {
    throw usageError(`unexpected argument "${positionals[specs.length]}"`, where);
  }
  for (const [i, s] of specs.entries()) {
    const v = positionals[i];
    if (v !== undefined && s.values && !s.values.includes(v) && !s.variadic) {
      throw usageError(`${s.name} "${v}" is not one of ${s.values.join(", ")}`, where);
    }
  }
  if (cmd.rest && rest.length === 0) throw usageError(`missing -- ${cmd.rest}`, where);
  if (!cmd.rest && argv.includes("--") && rest.length > 0) {
    throw usageError(`unexpected "-- ${rest.join(" ")}"`, where);
  }
}
