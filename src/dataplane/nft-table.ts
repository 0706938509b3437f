import type { NetnsRef } from "./dataplane.ts";

/**
 * Elements added to or deleted from one set of `table inet <table>`: plain address sets only
 * (`type ipv4_addr` / `type ipv6_addr`, no interval flag, no concatenation, no map), elements as
 * canonical address text.
 */
export interface NftElementChange {
  verb: "add" | "delete";
  set: string;
  family: 4 | 6;
  elements: readonly string[];
}

/** How a caller lets an apply run. */
export interface NftApplyOptions {
  /**
   * The caller accepts its thread held for the whole transaction: the agent's first load of a
   * full table (decision 0022), where a process would only add its start, the pipe and the wait.
   */
  mayBlock?: boolean;
}

/**
 * The nftables port. Everything tartan programs lives in `table inet tartan`, written as whole
 * scripts so each change is one atomic kernel transaction (all of it applies, or none).
 */
export interface NftTable {
  /** Runs the script as one `nft -f -` transaction in the namespace; throws TartanError on failure. */
  apply(netns: NetnsRef, script: string, opts?: NftApplyOptions): Promise<void>;
  /** `nft list table FAMILY NAME` text, or undefined when the table does not exist. */
  list(netns: NetnsRef, family: string, table: string): Promise<string | undefined>;
  /** The same as list, as nft's JSON (`nft -j`), parsed; undefined when the table does not exist. */
  listJson?(netns: NetnsRef, family: string, table: string): Promise<unknown | undefined>;
  /**
   * Element adds/deletes in sets of `table inet <table>`, in order, as one transaction (all or
   * nothing, like apply): what `add element` / `delete element` lines in one `nft -f` would do,
   * without a process (decision 0020). Throws TartanError on failure; nothing was changed then.
   */
  applyElements?(netns: NetnsRef, table: string, changes: readonly NftElementChange[]): Promise<void>;
  /**
   * Hands memory the driver freed back to the system (libnftables' cache of a big table lives in
   * glibc's arenas after the call). Costs milliseconds: for quiet moments, not after every apply.
   */
  releaseMemory?(): void;
}
