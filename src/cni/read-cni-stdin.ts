import { TartanError } from "../errors/tartan-error.ts";

/** A network configuration is a few kilobytes; a megabyte is a mistake or an attack. */
export const MAX_STDIN_BYTES = 1 << 20;

export function stdinTooLarge(limit = MAX_STDIN_BYTES): TartanError {
  return new TartanError(
    "cni-stdin-too-large",
    `network config on stdin is larger than ${limit} bytes`,
    "the runtime passes one network configuration of a few kilobytes; check what is piped in",
  );
}

/**
 * Reads stdin as UTF-8, refusing it as soon as it passes `limit` bytes: at most one chunk beyond
 * the limit is ever held, whatever the writer sends (the rest is left unread).
 */
export async function readCniStdin(
  stream: ReadableStream<Uint8Array>,
  limit = MAX_STDIN_BYTES,
): Promise<string> {
  return new TextDecoder().decode(await readCniStdinBytes(stream, limit));
}

/** readCniStdin's bytes, before decoding (the VERSION reader joins them to what it read itself). */
export async function readCniStdinBytes(
  stream: ReadableStream<Uint8Array>,
  limit = MAX_STDIN_BYTES,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw stdinTooLarge(limit);
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks);
}
