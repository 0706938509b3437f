import { TartanError } from "../../errors/tartan-error.ts";
import { type RunOptions, run } from "../../exec/run.ts";
import type { NetnsRef } from "../dataplane.ts";
import type { NftApplyOptions, NftElementChange, NftTable } from "../nft-table.ts";
import { libc } from "./netlink/libc.ts";
import { LibNftables, type NftRun } from "./netlink/libnftables.ts";
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

/**
 * Scripts up to this size run in this process through libnftables; larger ones (a full sync's
 * ~400 KB at 10k pods / 1k policies, ~170 ms of nft's work) go to an nft process, so that the
 * agent's event loop, which a library call blocks, is never held for long.
 */
export const IN_PROCESS_SCRIPT_MAX = 128 * 1024;

/**
 * With `mayBlock` (the agent's first load of its table, decision 0022), scripts up to this size
 * run in process too: ~400 KB at 10k pods / 1k policies is ~110 ms of nft's work held on the
 * thread against ~140–200 ms through a process; beyond ~1 MiB (some 25k pods) the process again.
 */
export const BLOCKING_SCRIPT_MAX = 1024 * 1024;

/**
 * NftTable through nft: scripts run by libnftables in this process when it can be loaded and the
 * script is small (decision 0021), else by the nft binary; other namespaces are entered with
 * setns around the library's socket creation, or with nsenter for the binary (nft has no -n).
 */
export class LinuxNft implements NftTable {
  /** The host namespace's nf_tables socket, kept open across applies (opened on first use). */
  private hostWriter: NftElementWriter | undefined;
  private readonly lib: LibNftables | undefined;

  constructor(
    private readonly nftBinary = "nft",
    /** false: always the binary (tests that must see what the binary does, or its absence). */
    opts: { libnftables?: boolean } = {},
  ) {
    this.lib = opts.libnftables === false ? undefined : LibNftables.load();
  }

  private nft(netns: NetnsRef, args: string[], opts: RunOptions = {}) {
    return run([this.nftBinary, ...args], netns === null ? opts : { ...opts, netns });
  }

  async apply(netns: NetnsRef, script: string, opts: NftApplyOptions = {}): Promise<void> {
    const refused = (text: string) =>
      // nft prints the failing line of the script with carets under the bad part: keep it whole.
      new TartanError(
        "nft-apply-failed",
        `nft transaction failed in ${netns ?? "the host namespace"} (nothing was applied): ${text.trim()}`,
        "the script is printed above the error; check the named line",
      );
    const max = opts.mayBlock ? BLOCKING_SCRIPT_MAX : IN_PROCESS_SCRIPT_MAX;
    if (this.lib && script.length <= max) {
      let r: NftRun | undefined;
      try {
        r = this.lib.run(libc(), netns, script);
      } catch {
        // No context in that namespace (it vanished, or no libc to enter it): the binary decides.
      }
      if (r?.ok) return;
      if (r) throw refused(r.error);
    }
    const res = await this.nft(netns, ["-f", "-"], { stdin: script, allowFailure: true });
    if (res.code !== 0) throw refused(res.stderr);
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

  releaseMemory(): void {
    this.lib?.trim();
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
