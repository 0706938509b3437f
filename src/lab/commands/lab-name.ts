import type { CommandArgs } from "../../cli/command-args.ts";
import { requireLabName } from "../../cli/labs-up.ts";

/** The lab a lab command acts on: --lab NAME, else the one lab that is up (else an error). */
export const labName = (args: CommandArgs): string => requireLabName(args.get("lab"));

/** `--lab NAME` for the hints a command prints ("next: …"); empty for the default lab. */
export const labFlag = (name: string): string => (name === "tartan" ? "" : ` --lab ${name}`);
