import { readSync } from "node:fs";
import { readFdSync } from "../exec/read-fd-sync.ts";
import { MAX_STDIN_BYTES, readCniStdin, stdinTooLarge } from "./read-cni-stdin.ts";

/**
 * The network config: blocking reads of fd 0 until EOF, refused as soon as it passes
 * MAX_STDIN_BYTES (at most one 64 KiB chunk beyond the limit is held). Bun.stdin.text() measured
 * ~2–5 ms more per plugin start (its stream machinery); a runtime gives the plugin a pipe, so a
 * sync read is safe. libc's read(2) through bun:ffi (readFdSync; bun:ffi is loaded on this path
 * anyway, for netlink) first: ~2 ms less CPU per ADD or DEL than node:fs's readSync (issue 11,
 * docs/benchmarks.md). Where it fails or libc is missing, readSync goes on from there as before:
 * its errors, and a non-blocking stdin (EAGAIN before any byte) read by the bounded stream reader.
 */
export async function readPluginStdin(
  fd = 0,
  stream: () => ReadableStream<Uint8Array> = () => Bun.stdin.stream(),
): Promise<string> {
  const got = readFdSync(fd, MAX_STDIN_BYTES);
  if (got?.end === "limit") throw stdinTooLarge();
  const first = got && Buffer.from(got.bytes.buffer, got.bytes.byteOffset, got.bytes.byteLength);
  if (got?.end === "eof") return (first as Buffer).toString("utf8");
  const chunk = Buffer.allocUnsafe(64 * 1024);
  const chunks: Buffer[] = first && first.length > 0 ? [first] : [];
  let total = first?.length ?? 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EOF") break;
      if (code === "EAGAIN" && total === 0) return await readCniStdin(stream());
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_STDIN_BYTES) throw stdinTooLarge();
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString("utf8");
}
