import { dlopen, FFIType } from "bun:ffi";

/** What readFdSync read, and why it stopped. */
export interface FdRead {
  /** Every byte read (up to one chunk beyond `limit` when it stopped there). */
  bytes: Uint8Array;
  /**
   * "eof": all of the input. "limit": more than `limit` bytes, the rest left unread. "failed": a
   * read returned -1 (EAGAIN on a non-blocking fd, EINTR, EBADF): the input may go on.
   */
  end: "eof" | "limit" | "failed";
}

type ReadFn = (fd: number, buf: Uint8Array, len: number) => number | bigint;
let libcRead: ReadFn | null | undefined;

/**
 * Blocking read(2) of `fd` through libc (bun:ffi) until end of input or past `limit` bytes;
 * undefined where libc cannot be opened (not glibc, not Linux). Synchronous on purpose: the CNI
 * plugin's VERSION reads its stdin this way because Bun's own readers of fd 0 (`Bun.stdin.text()`,
 * its stream) start Bun's thread pool and stream machinery, measured ~1–2.5 ms more CPU per
 * process start than loading bun:ffi and reading (docs/benchmarks.md, issue 11). Other callers of a pipe or a
 * file that may block the thread can use it too; an event loop blocked here runs nothing else.
 * Its own one-symbol dlopen rather than the netlink driver's libc (dataplane/linux/netlink/libc.ts,
 * a layer above): bun:ffi compiles a stub per symbol bound, and VERSION needs only read(2).
 */
export function readFdSync(fd: number, limit: number): FdRead | undefined {
  if (libcRead === undefined) {
    libcRead = null;
    try {
      if (process.platform === "linux") {
        libcRead = dlopen("libc.so.6", {
          read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
        }).symbols.read as ReadFn;
      }
    } catch {}
  }
  if (libcRead === null) return undefined;
  const chunk = new Uint8Array(64 * 1024);
  const chunks: Uint8Array[] = [];
  let total = 0;
  let end: FdRead["end"];
  for (;;) {
    const n = Number(libcRead(fd, chunk, chunk.length));
    if (n <= 0) {
      end = n === 0 ? "eof" : "failed";
      break;
    }
    chunks.push(chunk.slice(0, n));
    total += n;
    if (total > limit) {
      end = "limit";
      break;
    }
  }
  if (chunks.length === 1) return { bytes: chunks[0] as Uint8Array, end };
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return { bytes, end };
}
