import { TartanError } from "../../errors/tartan-error.ts";

/**
 * A cursor over the fields of one Protocol Buffers message, in wire order (etcd-responses.ts
 * turns them into values). `next()` steps to the next field; then `field` is its number and
 * either `varint` (a number, or a decimal string above 2^53) or `bytes()` its value. No object
 * per field: a list page of 500 keys is ~4000 fields. Skips 32/64-bit fixed fields (etcd's
 * messages have none tartan reads) and refuses a truncated or malformed message with
 * `datastore-unavailable` naming what was cut: an answer we cannot use is a failed call, never a
 * half-read object.
 */
export class ProtobufReader {
  field = 0;
  /** The varint's value (wire type 0), as a decimal string when above 2^53. */
  varint: number | string = 0;
  private wire = 0;
  private pos = 0;
  private start = 0;
  private end = 0;

  constructor(private readonly b: Uint8Array) {}

  next(): boolean {
    if (this.pos >= this.b.length) return false;
    const key = this.readVarint();
    if (typeof key !== "number") throw malformed("a field key above 2^53");
    this.field = Math.floor(key / 8);
    this.wire = key & 7;
    if (this.wire === 0) this.varint = this.readVarint();
    else if (this.wire === 2) {
      const n = this.readVarint();
      if (typeof n !== "number" || this.pos + n > this.b.length) {
        throw malformed(`field ${this.field} is cut (${n} bytes announced)`);
      }
      this.start = this.pos;
      this.end = this.pos + n;
      this.pos = this.end;
    } else if (this.wire === 1) this.pos += 8;
    else if (this.wire === 5) this.pos += 4;
    else throw malformed(`field ${this.field} has wire type ${this.wire}`);
    if (this.pos > this.b.length) throw malformed(`field ${this.field} is cut`);
    return true;
  }

  /** The current length-delimited field's bytes (a view); empty for other wire types. */
  bytes(): Uint8Array {
    return this.wire === 2 ? this.b.subarray(this.start, this.end) : this.b.subarray(0, 0);
  }

  /** The current varint as a decimal string ("0" for other wire types). */
  decimal(): string {
    return this.wire === 0 ? String(this.varint) : "0";
  }

  /** The current varint as a flag. */
  flag(): boolean {
    return this.wire === 0 && this.varint !== 0;
  }

  private readVarint(): number | string {
    const b = this.b;
    let v = 0;
    // Up to 7 bytes fit a double exactly (49 bits): every revision and length in practice.
    for (let shift = 0; shift < 49; shift += 7) {
      if (this.pos >= b.length) throw malformed("a varint runs past the end");
      const byte = b[this.pos++]!;
      v += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return v;
    }
    let big = BigInt(v);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      if (this.pos >= b.length) throw malformed("a varint runs past the end");
      const byte = b[this.pos++]!;
      big |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) {
        big = BigInt.asUintN(64, big);
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
      }
    }
    throw malformed("a varint longer than 10 bytes");
  }
}

function malformed(what: string): TartanError {
  return new TartanError(
    "datastore-unavailable",
    `etcd sent an answer tartan cannot read: ${what}`,
    "is the endpoint an etcd v3 server? Check the endpoints given with --datastore or datastore.endpoints",
  );
}
