import type { OptionSpec } from "./command.ts";

export const OUTPUT_FORMATS = ["table", "json", "yaml", "wide"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Added by the runner to every command that has a table renderer. */
export const OUTPUT_OPTION: OptionSpec = {
  name: "output",
  short: "o",
  value: "FORMAT",
  description: "print as a table, json or yaml (wide: the table with extra columns, where there are)",
  default: "table",
  values: OUTPUT_FORMATS,
};

/** Added by the runner to every command; prints the command's help and runs nothing. */
export const HELP_OPTION: OptionSpec = { name: "help", short: "h", description: "show this help" };

/** The one spelling of "which lab" for every command that acts on a lab. */
export const LAB_OPTION: OptionSpec = {
  name: "lab",
  value: "NAME",
  description: "the lab to act on (default: the one lab that is up)",
};

export const NAMESPACE_OPTION: OptionSpec = {
  name: "namespace",
  short: "n",
  value: "NS",
  description: 'the namespace of the objects named (default "default"; NS/NAME works too)',
};
