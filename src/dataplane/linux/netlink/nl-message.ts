/**
 * Builds one netlink request: the 16-byte header, the family header (ifinfomsg, rtmsg, ...) as
 * raw bytes, then attributes, 4-byte aligned, with nesting. The sequence number is set by the
 * socket when it sends.
 */
export class NlMessage {
  // 128 bytes hold a route, neighbour or FDB request; bigger ones grow. The ArrayBuffer is made
  // first: reading `.buffer` of a small Uint8Array makes the engine move it out of line (a CPU
  // profile of the agent's writes showed that getter among its top frames).
  private ab = new ArrayBuffer(128);
  private buf = new Uint8Array(this.ab);
  private view = new DataView(this.ab);
  private len = 16;
  private readonly open: number[] = [];

  constructor(type: number, flags: number) {
    this.view.setUint16(4, type, true);
    this.view.setUint16(6, flags, true);
  }

  private grow(n: number): number {
    const at = this.len;
    const need = at + ((n + 3) & ~3);
    if (need > this.buf.length) {
      this.ab = new ArrayBuffer(Math.max(need, this.buf.length * 2));
      const next = new Uint8Array(this.ab);
      next.set(this.buf);
      this.buf = next;
      this.view = new DataView(this.ab);
    }
    this.len = need;
    return at;
  }

  /** The family header: `size` zeroed bytes that `fill` writes through a view of them. */
  header(size: number, fill: (v: DataView) => void): this {
    const at = this.grow(size);
    fill(new DataView(this.ab, at, size));
    return this;
  }

  bytes(type: number, data: Uint8Array): this {
    const at = this.grow(4 + data.length);
    this.view.setUint16(at, 4 + data.length, true);
    this.view.setUint16(at + 2, type, true);
    this.buf.set(data, at + 4);
    return this;
  }

  u8(type: number, v: number): this {
    const at = this.grow(5);
    this.view.setUint16(at, 5, true);
    this.view.setUint16(at + 2, type, true);
    this.view.setUint8(at + 4, v);
    return this;
  }

  u32(type: number, v: number): this {
    const at = this.grow(8);
    this.view.setUint16(at, 8, true);
    this.view.setUint16(at + 2, type, true);
    this.view.setUint32(at + 4, v, true);
    return this;
  }

  /** A NUL-terminated string, as the kernel expects for names and kinds. */
  str(type: number, s: string): this {
    return this.bytes(type, new TextEncoder().encode(`${s}\0`));
  }

  begin(type: number): this {
    const at = this.grow(4);
    this.view.setUint16(at + 2, type, true);
    this.open.push(at);
    return this;
  }

  end(): this {
    const at = this.open.pop();
    if (at === undefined) throw new Error("NlMessage.end without begin");
    this.view.setUint16(at, this.len - at, true);
    return this;
  }

  /** The finished message with its length and sequence number. */
  done(seq: number): Uint8Array {
    if (this.open.length > 0) throw new Error("NlMessage: unclosed nest");
    this.view.setUint32(0, this.len, true);
    this.view.setUint32(8, seq, true);
    return this.buf.subarray(0, this.len);
  }
}
