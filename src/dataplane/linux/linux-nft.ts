import { TartanError } from "../../errors/tartan-error.ts";
import { type RunOptions, run } from "../../exec/run.ts";
import type { NetnsRef } from "../dataplane.ts";
import type { NftTable } from "../nft-table.ts";

const IDENT = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const FAMILIES = new Set(["ip", "ip6", "inet", "arp", "bridge", "netdev"]);

function checkTable(family: string, table: string): void {
  if (!FAMILIES.has(family) || !IDENT.test(table)) {
    throw new TartanError("invalid-nft-table", `"${family} ${table}" is not an nft family and table name`);
  }
}

/** True when nft said the table is missing (ENOENT), as opposed to any other failure. */
function isMissing(stderr: string): boolean {
  return /No such file or directory/.test(stderr);
}

/** NftTable through the nft binary; other namespaces are entered with nsenter (nft has no -n). */
export class LinuxNft implements NftTable {
  constructor(private readonly nftBinary = "nft") {}

  private nft(netns: NetnsRef, args: string[], opts: RunOptions = {}) {
    return run([this.nftBinary, ...args], netns === null ? opts : { ...opts, netns });
  }

  async apply(netns: NetnsRef, script: string): Promise<void> {
    const res = await this.nft(netns, ["-f", "-"], { stdin: script, allowFailure: true });
    if (res.code !== 0) {
      // nft prints the failing line of the script with carets under the bad part: keep it whole.
      throw new TartanError(
        "nft-apply-failed",
        `nft transaction failed in ${netns ?? "the host namespace"} (nothing was applied): ${res.stderr.trim()}`,
        "the script is printed above the error; check the named line",
      );
    }
  }

  async list(netns: NetnsRef, family: string, table: string): Promise<string | undefined> {
    checkTable(family, table);
    const res = await this.nft(netns, ["list", "table", family, table], { allowFailure: true });
    if (res.code === 0) return res.stdout;
    if (isMissing(res.stderr)) return undefined;
    throw new TartanError("nft-list-failed", `nft list table ${family} ${table}: ${res.stderr.trim()}`);
  }

  async listJson(netns: NetnsRef, family: string, table: string): Promise<unknown | undefined> {
    checkTable(family, table);
    const res = await this.nft(netns, ["-j", "list", "table", family, table], { allowFailure: true });
    if (res.code === 0) return JSON.parse(res.stdout) as unknown;
    if (isMissing(res.stderr)) return undefined;
    throw new TartanError("nft-list-failed", `nft -j list table ${family} ${table}: ${res.stderr.trim()}`);
  }
}
