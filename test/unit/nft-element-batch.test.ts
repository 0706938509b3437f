// The nf_tables element batch against a known-good encoding: the bytes nft 1.0.6 sent for
//   delete element inet tartan s4 { 10.0.0.9 }
//   add element inet tartan s4 { 10.0.0.1, 10.0.0.2 }
//   add element inet tartan s6 { fd00::1 }
// captured with `strace -e trace=sendmsg -xx nft -f -` (sequence numbers 0..4). Ours differs in
// exactly two documented ways, applied to nft's bytes below: every element message asks for an
// ack (NLM_F_ACK), and carries no NFTA_SET_ELEM_LIST_SET_ID (nft names the set by id as well,
// for sets made earlier in the same batch; ours are always there already).
import { describe, expect, test } from "bun:test";
import {
  ELEMENTS_PER_MESSAGE,
  nftElementBatch,
} from "../../src/dataplane/linux/netlink/nft-element-batch.ts";

const hex = (s: string): number[] => s.match(/[0-9a-f]{2}/g)!.map((b) => Number.parseInt(b, 16));

// One message per line, as strace printed them (header, nfgenmsg, attributes).
const NFT_SENT = [
  "14000000 1000 0100 00000000 00000000 00 00 000a",
  "3c000000 0e0a 0100 01000000 00000000 01 00 0000 0b00 0100 74617274616e00 00 0700 0200 733400 00" +
    " 1400 0380 1000 0180 0c00 0180 0800 0100 0a000009",
  "54000000 0c0a 0104 02000000 00000000 01 00 0000 0b00 0100 74617274616e00 00 0700 0200 733400 00" +
    " 0800 0400 00000001 2400 0380 1000 0180 0c00 0180 0800 0100 0a000001 1000 0280 0c00 0180 0800 0100 0a000002",
  "50000000 0c0a 0104 03000000 00000000 01 00 0000 0b00 0100 74617274616e00 00 0700 0200 733600 00" +
    " 0800 0400 00000002 2000 0380 1c00 0180 1800 0180 1400 0100 fd000000000000000000000000000001",
  "14000000 1100 0100 04000000 00000000 00 00 000a",
].map(hex);

/** nft's message as ours is: NLM_F_ACK on element messages, NFTA_SET_ELEM_LIST_SET_ID (type 4) dropped. */
function asOurs(m: number[]): number[] {
  const type = m[4]! | (m[5]! << 8);
  if (type !== 0x0a0c && type !== 0x0a0e) return m;
  const out = m.slice(0, 20);
  out[6] = out[6]! | 0x04;
  for (let at = 20; at < m.length; ) {
    const len = m[at]! | (m[at + 1]! << 8);
    const step = (len + 3) & ~3;
    if ((m[at + 2]! | (m[at + 3]! << 8)) !== 4) out.push(...m.slice(at, at + step));
    at += step;
  }
  out[0] = out.length & 0xff;
  out[1] = out.length >> 8;
  return out;
}

describe("nf_tables element batch encoding", () => {
  test("equals nft's bytes (with an ack asked for, without the set id)", () => {
    const parts = nftElementBatch("tartan", [
      { verb: "delete", set: "s4", family: 4, elements: ["10.0.0.9"] },
      { verb: "add", set: "s4", family: 4, elements: ["10.0.0.1", "10.0.0.2"] },
      { verb: "add", set: "s6", family: 6, elements: ["fd00::1"] },
    ]);
    expect(parts.map((p, i) => [...p.msg.done(i)])).toEqual(NFT_SENT.map(asOurs));
    expect(parts.map((p) => p.change?.set)).toEqual([undefined, "s4", "s4", "s6", undefined]);
  });

  test("splits a set's elements into messages of ELEMENTS_PER_MESSAGE; skips empty changes", () => {
    const many = Array.from({ length: ELEMENTS_PER_MESSAGE + 5 }, (_, i) => `fd00::${(i + 1).toString(16)}`);
    const parts = nftElementBatch("tartan", [
      { verb: "add", set: "big6", family: 6, elements: many },
      { verb: "delete", set: "s4", family: 4, elements: [] },
    ]);
    expect(parts.map((p) => p.change?.elements.length)).toEqual([
      undefined,
      ELEMENTS_PER_MESSAGE,
      5,
      undefined,
    ]);
    // Each message stays inside the 16-bit attribute length of its element list.
    for (const p of parts) expect(p.msg.done(1).length).toBeLessThan(65536);
    expect(parts[2]!.change!.elements[0]).toBe(many[ELEMENTS_PER_MESSAGE]);
  });

  test("refuses an element that is not an address of the set's family", () => {
    expect(() =>
      nftElementBatch("tartan", [{ verb: "add", set: "s4", family: 4, elements: ["fd00::1"] }]),
    ).toThrow(/not an IPv4 address/);
    expect(() =>
      nftElementBatch("tartan", [{ verb: "add", set: "s4", family: 4, elements: ["10.0.0.0/8"] }]),
    ).toThrow(/not an IPv4 or IPv6 address/);
  });
});
