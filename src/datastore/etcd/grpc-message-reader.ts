import { GRPC, GrpcError } from "./grpc-error.ts";

/** A gRPC message on the wire: 1 byte "compressed" (always 0: we ask for no compression), 4 bytes length. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/**
 * Splits a response body into gRPC messages as chunks arrive. Chunks are kept as they come and
 * a message is copied out once, when all of it is there: a list page of a few MB arrives in
 * ~16 KB chunks, and joining them chunk by chunk would copy it hundreds of times.
 */
export class GrpcMessageReader {
  private chunks: Uint8Array[] = [];
  private size = 0;

  push(chunk: Uint8Array, onMessage: (m: Uint8Array) => void): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size >= 5) {
      const head = this.peek(5);
      if (head[0] !== 0)
        throw new GrpcError(GRPC.unknown, "etcd sent a compressed message (none was asked for)");
      const len = new DataView(head.buffer, head.byteOffset, 5).getUint32(1);
      if (this.size < 5 + len) break;
      onMessage(this.take(5 + len).subarray(5));
    }
  }

  /** The first `n` bytes (n ≤ size), without consuming them. */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (const c of this.chunks) {
      const part = c.subarray(0, n - at);
      out.set(part, at);
      at += part.length;
      if (at === n) break;
    }
    return out;
  }

  /** Consumes the first `n` bytes (n ≤ size) as one array (a view when one chunk holds them). */
  private take(n: number): Uint8Array {
    this.size -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    // Not zero-filled: every byte is written below (a page is a few hundred KB, per call).
    const out = Buffer.allocUnsafeSlow(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const part = c.subarray(0, n - at);
      out.set(part, at);
      at += part.length;
      if (part.length === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(part.length);
    }
    return out;
  }
}
