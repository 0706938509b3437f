import { TartanError } from "../errors/tartan-error.ts";
import { readFdSync } from "../exec/read-fd-sync.ts";
import { MAX_STDIN_BYTES, readCniStdinBytes, stdinTooLarge } from "./read-cni-stdin.ts";

/**
 * VERSION's stdin, decoded as readCniStdin decodes it and refused past `limit` bytes alike: read
 * by blocking read(2) calls through libc (readFdSync), ~1–2.5 ms less CPU per start than the
 * stream reader (Bun's thread pool), with the stream reader taking over where libc is missing or a read
 * fails (a non-blocking pipe's EAGAIN): then it reads what is left, after the bytes already read.
 * Only the plugin's VERSION uses it: the other verbs read through readPluginStdin (read(2) first
 * too, then node:fs's readSync, whose errors they report; node:fs is loaded on their path anyway).
 */
export async function readVersionStdin(
  fd = 0,
  stream: () => ReadableStream<Uint8Array> = () => Bun.stdin.stream(),
  limit = MAX_STDIN_BYTES,
): Promise<string> {
  const got = readFdSync(fd, limit);
  let bytes: Uint8Array;
  if (got === undefined) bytes = await readCniStdinBytes(stream(), limit);
  else if (got.end === "limit") throw stdinTooLarge(limit);
  else if (got.end === "eof") bytes = got.bytes;
  else {
    const rest = await readCniStdinBytes(stream(), limit - got.bytes.length).catch((e: unknown) => {
      throw e instanceof TartanError && e.code === "cni-stdin-too-large" ? stdinTooLarge(limit) : e;
    });
    bytes = Buffer.concat([got.bytes, rest]);
  }
  return new TextDecoder().decode(bytes);
}
