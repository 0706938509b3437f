import { TartanError } from "../../errors/tartan-error.ts";
import { type RunOptions, run } from "../../exec/run.ts";
import type { NetnsRef } from "../dataplane.ts";
import type { NftElementChange, NftTable } from "../nft-table.ts";
import { libc } from "./netlink/libc.ts";
import { NftElementWriter } from "./netlink/nft-element-writer.ts";

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

/** The nft script doing what an element batch does (the fallback where netlink is not reachable). */
function elementScript(table: string, changes: readonly NftElementChange[]): string {
  const lines = changes
    .filter((c) => c.elements.length > 0)
    .map((c) => `${c.verb} element inet ${table} ${c.set} { ${c.elements.join(", ")} }`);
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/** NftTable through the nft binary; other namespaces are entered with nsenter (nft has no -n). */
export class LinuxNft implements NftTable {
  /** The host namespace's nf_tables socket, kept open across applies (opened on first use). */
  private hostWriter: NftElementWriter | undefined;

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

  /**
   * Over nf_tables netlink in this process (no nft process: decision 0020). Where netlink is not
   * reachable (no libc through bun:ffi, a socket that cannot be opened or written), the same
   * changes go through `nft -f` as `add element` / `delete element` lines: same transaction,
   * same outcome. A refusal by the kernel is not retried through nft, which would be refused alike.
   */
  async applyElements(netns: NetnsRef, table: string, changes: readonly NftElementChange[]): Promise<void> {
    checkTable("inet", table);
    const c = libc();
    let writer: NftElementWriter | undefined;
    if (c) {
      try {
        if (netns !== null) writer = NftElementWriter.open(c, netns);
        else {
          this.hostWriter ??= NftElementWriter.open(c, null);
          writer = this.hostWriter;
        }
      } catch {
        writer = undefined;
      }
    }
    if (!writer) return this.fallback(netns, table, changes);
    try {
      writer.write(table, changes);
    } catch (e) {
      if (e instanceof TartanError) throw e;
      // The socket failed (not the kernel's answer): drop it, and let nft do this one.
      if (writer === this.hostWriter) this.hostWriter = undefined;
      writer.close();
      writer = undefined;
      return this.fallback(netns, table, changes);
    } finally {
      if (writer && writer !== this.hostWriter) writer.close();
    }
  }

  private async fallback(
    netns: NetnsRef,
    table: string,
    changes: readonly NftElementChange[],
  ): Promise<void> {
    const script = elementScript(table, changes);
    if (script !== "") await this.apply(netns, script);
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
