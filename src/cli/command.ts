import type { AgentWiring } from "../agent/run-agent.ts";
import type { IpamStore } from "../datastore/ipam-store.ts";
import type { CommandArgs } from "./command-args.ts";
import type { ArgSpec, OptionSpec } from "./option-spec.ts";

export type { ArgSpec, OptionSpec } from "./option-spec.ts";

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  stdin(): Promise<string>;
}

/** What main.ts hands every command besides its arguments. */
export interface CommandContext {
  io: CommandIo;
  env: Record<string, string | undefined>;
  /** The agent's real adapters (loaded only by `tartan agent`). */
  agentWiring?: () => Promise<AgentWiring>;
  /** Opens a node-local IPAM store read-only: "no IPAM store at DIR" rather than creating one. */
  openIpamStoreReadOnly?: (dir: string) => IpamStore;
}

/**
 * A command that printed its own output (or relayed another process's) and only has an exit
 * code to give back: `lab exec`, `agent`, the objects commands relayed into a lab.
 */
export class Exited {
  constructor(readonly code: number) {}
}

/**
 * Every command has this one shape: where it sits in the table, what help says about it, how its
 * arguments look, and `run`, which returns data; the runner prints that data as `table`
 * (`render`), json or yaml. Errors are thrown as TartanError; the runner maps them to exit codes.
 */
export interface Command<D = unknown> {
  /** e.g. ["lab", "pod", "add"]. */
  path: readonly string[];
  /** One line, shown in command lists. */
  summary: string;
  /** More help text, shown by `--help` below the usage line. */
  description?: string;
  args?: readonly ArgSpec[];
  /** Takes `-- CMD...` after its arguments (`lab exec`). */
  rest?: string;
  options?: readonly OptionSpec[];
  examples?: readonly string[];
  /** Checked before anything else: a non-root user gets "must run as root", not a side effect. */
  needsRoot?: boolean;
  /** Internal (run by the lab inside its namespaces): not listed in help or completion. */
  hidden?: boolean;
  run(args: CommandArgs, ctx: CommandContext): Promise<D | Exited>;
  /**
   * The `-o table` form of the data; `wide` is set for `-o wide`, where a renderer may add columns
   * (else it prints the table). Absent: the command takes no `-o`.
   */
  render?(data: D, o: { wide: boolean; format?: string }): string;
  /** What json and yaml print, when it is not the data itself (`get` prints the objects). */
  json?(data: D): unknown;
  /** The exit code after printing (non-zero for a partial result); may write warnings to err. */
  exitCode?(data: D, io: CommandIo, args: CommandArgs): number;
}

/** A node of the table that only groups subcommands (`lab`, `lab pod`, `ipam`). */
export interface CommandGroup {
  path: readonly string[];
  summary: string;
  description?: string;
  group: true;
}

export type TableEntry = Command<never> | CommandGroup;
export type CommandTable = readonly TableEntry[];

export const isGroup = (e: TableEntry): e is CommandGroup => "group" in e;

/** Erases the data type, so commands of different data types fit one table. */
export function defineCommand<D>(c: Command<D>): Command<never> {
  return c as unknown as Command<never>;
}
