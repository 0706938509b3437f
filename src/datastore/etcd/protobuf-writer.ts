/**
 * Protocol Buffers wire encoding for the few etcd requests tartan sends (etcd-requests.ts). Only
 * what those messages use: varints (int64 fields as decimal strings, etcd's revisions), bytes,
 * and nested messages. Hand-written instead of protobufjs + a descriptor: the etcd client loads
 * nothing at start-up (decision 0023).
 */
export class ProtobufWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  /** The encoded message (a view of the internal buffer: do not write after taking it). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /**
   * A varint field; skipped when zero (proto3's default) unless `keepZero` (a oneof member set to
   * 0 must be present). `v` may be a decimal string (etcd's int64 revisions).
   */
  uint(field: number, v: number | bigint | string | boolean | undefined, keepZero = false): this {
    if (v === undefined) return this;
    if (!keepZero && (v === false || v === 0 || v === "0" || v === 0n)) return this;
    this.tag(field, 0);
    this.varint(typeof v === "boolean" ? 1 : typeof v === "string" ? BigInt(v) : v);
    return this;
  }

  /** A length-delimited field (bytes or string); skipped when undefined. Empty is written. */
  bytes(field: number, v: Uint8Array | string | undefined): this {
    if (v === undefined) return this;
    const b = typeof v === "string" ? new TextEncoder().encode(v) : v;
    this.tag(field, 2);
    this.varint(b.length);
    this.put(b);
    return this;
  }

  /** A nested message field, written by `fill` into its own writer. */
  message(field: number, fill: (w: ProtobufWriter) => void): this {
    const w = new ProtobufWriter();
    fill(w);
    return this.bytes(field, w.finish());
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  private varint(v: number | bigint): void {
    this.room(10);
    if (typeof v === "number" && v >= 0 && v < 2 ** 31) {
      let n = v;
      while (n >= 0x80) {
        this.buf[this.len++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      this.buf[this.len++] = n;
      return;
    }
    // int64s are sent as their two's-complement 64-bit value (negatives are not used by etcd here).
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.len++] = Number(x);
  }

  private put(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}
