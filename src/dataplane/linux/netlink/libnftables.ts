import { dlopen, FFIType, ptr } from "bun:ffi";
import { inNetns } from "./in-netns.ts";
import type { Libc } from "./libc.ts";

/** What one script run gave: nft's own error text when the transaction was refused. */
export type NftRun = { ok: true } | { ok: false; error: string };

interface Symbols {
  nft_ctx_new(flags: number): unknown;
  nft_ctx_free(ctx: unknown): void;
  nft_ctx_buffer_output(ctx: unknown): number;
  nft_ctx_buffer_error(ctx: unknown): number;
  nft_ctx_get_error_buffer(ctx: unknown): unknown;
  nft_run_cmd_from_buffer(ctx: unknown, buf: unknown): number;
  malloc_trim(pad: number | bigint): number;
}

let loaded: LibNftables | null | undefined;

/**
 * nft's own library (libnftables.so.1, which the nft binary is a thin shell around) called in
 * this process through bun:ffi: `nft -f` without a process (decision 0021). The same parser,
 * the same cache fill and the same one-transaction batch as the binary; what it saves is the
 * spawn and nft's start, ~18 ms of a ~29 ms new-policy apply at 10k pods / 1k policies. Lives
 * beside the netlink driver because it is the same kind of adapter: a C library over bun:ffi
 * whose socket (nf_tables netlink) is bound to the namespace it was created in.
 */
export class LibNftables {
  /** nft ran since the last trim: only then is there something of its in glibc's arenas. */
  private ranSinceTrim = false;

  private constructor(private readonly s: Symbols) {}

  /** The library, opened on first use, or undefined where it cannot be (callers spawn nft). */
  static load(): LibNftables | undefined {
    if (loaded !== undefined) return loaded ?? undefined;
    loaded = null;
    if (process.platform !== "linux") return undefined;
    try {
      // glibc's, for trim(): libnftables allocates with malloc, not with Bun's allocator.
      const { symbols: libcTrim } = dlopen("libc.so.6", {
        malloc_trim: { args: [FFIType.u64], returns: FFIType.i32 },
      });
      const { symbols } = dlopen("libnftables.so.1", {
        nft_ctx_new: { args: [FFIType.u32], returns: FFIType.ptr },
        nft_ctx_free: { args: [FFIType.ptr], returns: FFIType.void },
        nft_ctx_buffer_output: { args: [FFIType.ptr], returns: FFIType.i32 },
        nft_ctx_buffer_error: { args: [FFIType.ptr], returns: FFIType.i32 },
        nft_ctx_get_error_buffer: { args: [FFIType.ptr], returns: FFIType.cstring },
        nft_run_cmd_from_buffer: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
      });
      loaded = new LibNftables({ ...symbols, ...libcTrim } as unknown as Symbols);
    } catch {
      loaded = null;
    }
    return loaded ?? undefined;
  }

  /**
   * Gives the memory nft's freed caches left in glibc's arenas back to the system (~8 ms at 10k
   * pods / 1k policies: measured as the cost of doing it after every call, so it is not done
   * then). At 10k/1k the arenas otherwise keep ~20–60 MB after a burst of applies.
   */
  trim(): void {
    // Skipped when nft has not run since: a trim walks every arena (150–250 ms of CPU measured in
    // a 10k/1k agent), and the agent's idle releases also follow read-backs and netlink batches.
    if (!this.ranSinceTrim) return;
    this.ranSinceTrim = false;
    this.s.malloc_trim(0);
  }

  /**
   * Runs `script` as `nft -f` would, in `netns` (a path; null: the calling thread's namespace).
   * A context per call: its socket is made in the target namespace (nft_ctx_new opens it), and
   * nft's cache of the kernel's objects, refilled by nft at every call anyway, is freed with it
   * rather than kept in the agent's memory. Output and errors are buffered, never printed.
   * Throws when no context can be made there (the caller then spawns nft); a refused
   * transaction is `{ ok: false }` with nft's text, as the binary prints it.
   */
  run(c: Libc | undefined, netns: string | null, script: string): NftRun {
    this.ranSinceTrim = true;
    const make = () => this.s.nft_ctx_new(0);
    let ctx: unknown;
    if (netns === null) ctx = make();
    else if (c) ctx = inNetns(c, netns, make);
    else throw new Error("libc is not loadable: cannot enter another namespace");
    if (ctx === null) throw new Error("nft_ctx_new failed");
    try {
      this.s.nft_ctx_buffer_output(ctx);
      this.s.nft_ctx_buffer_error(ctx);
      const buf = Buffer.from(`${script}\0`);
      if (this.s.nft_run_cmd_from_buffer(ctx, ptr(buf)) === 0) return { ok: true };
      return { ok: false, error: String(this.s.nft_ctx_get_error_buffer(ctx) ?? "") };
    } finally {
      this.s.nft_ctx_free(ctx);
    }
  }
}
