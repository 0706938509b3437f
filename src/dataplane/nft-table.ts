import type { NetnsRef } from "./dataplane.ts";

/**
 * The nftables port. Everything tartan programs lives in `table inet tartan`, written as whole
 * scripts so each change is one atomic kernel transaction (all of it applies, or none).
 */
export interface NftTable {
  /** Runs the script as one `nft -f -` transaction in the namespace; throws TartanError on failure. */
  apply(netns: NetnsRef, script: string): Promise<void>;
  /** `nft list table FAMILY NAME` text, or undefined when the table does not exist. */
  list(netns: NetnsRef, family: string, table: string): Promise<string | undefined>;
  /** The same as list, as nft's JSON (`nft -j`), parsed; undefined when the table does not exist. */
  listJson?(netns: NetnsRef, family: string, table: string): Promise<unknown | undefined>;
}
