/** One option of a command: `--name VALUE` (or a bare flag when `value` is absent). */
export interface OptionSpec {
  /** The long name without dashes: `lab` for `--lab`. */
  name: string;
  /** One letter without the dash: `o` for `-o`. */
  short?: string;
  /** The value's placeholder in help (`NAME`, `FILE`); absent for a flag. */
  value?: string;
  description: string;
  default?: string;
  /** The only values accepted (checked by the parser, offered by shell completion). */
  values?: readonly string[];
  /** Must be given (shown without brackets in the usage line). */
  required?: boolean;
  /** May be given more than once (`-f a.yaml -f b.yaml`). */
  multiple?: boolean;
  /** What shell completion offers for the value when there is no `values` list. */
  complete?: "file" | "dir";
}

/** One positional argument, for the usage line, the arity check and completion. */
export interface ArgSpec {
  name: string;
  optional?: boolean;
  /** Takes every remaining positional (one or more, or none when also optional). */
  variadic?: boolean;
  values?: readonly string[];
  /** Offered by completion but not enforced (aliases are accepted too). */
  suggest?: readonly string[];
}
