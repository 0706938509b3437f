import { describe, expect, test } from "bun:test";
import { ipBytes } from "../../src/dataplane/linux/netlink/ip-bytes.ts";
import { macBytes } from "../../src/dataplane/linux/netlink/mac-bytes.ts";
import { NlMessage } from "../../src/dataplane/linux/netlink/nl-message.ts";
import { parseIp } from "../../src/model/ip.ts";

describe("netlink address bytes", () => {
  test("MACs in either case, every byte value", () => {
    expect([...macBytes("02:aa:00:0f:f0:ff")]).toEqual([0x02, 0xaa, 0x00, 0x0f, 0xf0, 0xff]);
    expect([...macBytes("02:AA:Bc:dE:9f:10")]).toEqual([0x02, 0xaa, 0xbc, 0xde, 0x9f, 0x10]);
    for (let b = 0; b < 256; b++) {
      const h = b.toString(16).padStart(2, "0");
      expect(macBytes(`${h}:00:00:00:00:${h.toUpperCase()}`)).toEqual(Uint8Array.of(b, 0, 0, 0, 0, b));
    }
  });

  test("IPv4 in network order, including the top bit; IPv6 unchanged", () => {
    expect([...ipBytes(parseIp("198.18.2.10"))]).toEqual([198, 18, 2, 10]);
    expect([...ipBytes(parseIp("255.255.255.255"))]).toEqual([255, 255, 255, 255]);
    expect([...ipBytes(parseIp("0.0.0.1"))]).toEqual([0, 0, 0, 1]);
    expect([...ipBytes(parseIp("fd00::1:ff"))]).toEqual([
      0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xff,
    ]);
  });
});

describe("NlMessage", () => {
  test("u8 and u32 attributes are written in place, padded, and the message grows past 128 bytes", () => {
    const m = new NlMessage(24, 0x405)
      .header(12, (v) => v.setUint8(0, 2))
      .u8(9, 7)
      .u32(4, 0x01020304);
    const b = m.done(42);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    expect(v.getUint32(0, true)).toBe(16 + 12 + 8 + 8);
    expect(v.getUint16(4, true)).toBe(24);
    expect(v.getUint16(6, true)).toBe(0x405);
    expect(v.getUint32(8, true)).toBe(42);
    expect(b[16]).toBe(2);
    expect([v.getUint16(28, true), v.getUint16(30, true), b[32], b[33], b[34], b[35]]).toEqual([
      5, 9, 7, 0, 0, 0,
    ]);
    expect([v.getUint16(36, true), v.getUint16(38, true), v.getUint32(40, true)]).toEqual([8, 4, 0x01020304]);
    const big = new NlMessage(16, 1).bytes(1, new Uint8Array(200).fill(9)).u32(2, 5).done(1);
    expect(big.length).toBe(16 + 204 + 8);
    expect(big[16 + 4 + 199]).toBe(9);
    expect(new DataView(big.buffer, big.byteOffset).getUint32(16 + 204 + 4, true)).toBe(5);
  });
});
