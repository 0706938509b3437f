import { readSync } from "node:fs";
import { MAX_STDIN_BYTES, readCniStdin, stdinTooLarge } from "./read-cni-stdin.ts";

/**
 * The network config: blocking reads of fd 0 until EOF, refused as soon as it passes
 * MAX_STDIN_BYTES (at most one 64 KiB chunk beyond the limit is held). Bun.stdin.text() measured
 * ~2–5 ms more per plugin start (its stream machinery); a runtime gives the plugin a pipe, so a
 * sync read is safe. A non-blocking stdin (EAGAIN) falls back to the bounded stream reader.
 */
export async function readPluginStdin(): Promise<string> {
  const chunk = Buffer.allocUnsafe(64 * 1024);
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EOF") break;
      if (code === "EAGAIN" && total === 0) return await readCniStdin(Bun.stdin.stream());
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_STDIN_BYTES) throw stdinTooLarge();
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString("utf8");
}
