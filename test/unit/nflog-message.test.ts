// The nfnetlink_log parser on bytes captured from the kernel (Linux 6.x, `log prefix "tartan-drop
// ing prod/web " group 5` on the output hook of a test namespace): an IPv6 TCP SYN and an IPv4
// UDP datagram, each in its own datagram as the socket receives them; plus hand-made edge cases.
import { describe, expect, test } from "bun:test";
import { parseIpHeaders } from "../../src/dataplane/linux/netlink/ip-headers.ts";
import { parseNflogDatagram } from "../../src/dataplane/linux/netlink/nflog-message.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));

const TCP6_SYN = hex(
  "a80000000004000000000000000000000a0000050800010086dd03001e000a0074617274616e2d64726f7020696e672070726f642f77656220000000080005000000000108000b000000000008000e000000000054000900600092bb002806400000000000000000000000000000000100000000000000000000000000000001ee3c270f25b2f2cf00000000a002ffc4003000000204ffc40402080a30715c2f000000000103030a",
);
const UDP4 = hex(
  "780000000004000000000000000000000200000508000100080003001e000a0074617274616e2d64726f7020696e672070726f642f77656220000000080005000000000108000b000000000008000e0000000000210009004500001dd246400040116a877f0000017f000001a369270f0009fe1c78000000",
);

describe("parseNflogDatagram", () => {
  test("an IPv6 TCP SYN: prefix, addresses, ports, out interface", () => {
    const d = parseNflogDatagram(TCP6_SYN);
    expect(d.undecoded).toBe(0);
    expect(d.packets).toEqual([
      {
        prefix: "tartan-drop ing prod/web",
        family: 6,
        src: "::1",
        dst: "::1",
        protocol: "TCP",
        srcPort: 60988,
        dstPort: 9999,
        length: 80,
        outIfindex: 1,
      },
    ]);
  });

  test("an IPv4 UDP datagram", () => {
    const [p] = parseNflogDatagram(UDP4).packets;
    expect(p).toEqual({
      prefix: "tartan-drop ing prod/web",
      family: 4,
      src: "127.0.0.1",
      dst: "127.0.0.1",
      protocol: "UDP",
      srcPort: 41833,
      dstPort: 9999,
      length: 29,
      outIfindex: 1,
    });
  });

  test("two messages in one datagram (a batch) and the NLMSG_DONE that ends it", () => {
    const done = hex("140000000300020000000000000000000000000000");
    const buf = new Uint8Array([...UDP4, ...TCP6_SYN, ...done.subarray(0, 20)]);
    const d = parseNflogDatagram(buf);
    expect(d.packets.map((p) => p.protocol)).toEqual(["UDP", "TCP"]);
  });

  test("an ack is returned with its sequence number and errno", () => {
    // nlmsghdr(len 36, NLMSG_ERROR, seq 7) + error -16 (EBUSY) + the echoed header.
    const ack = new Uint8Array(36);
    const v = new DataView(ack.buffer);
    v.setUint32(0, 36, true);
    v.setUint16(4, 2, true);
    v.setUint32(8, 7, true);
    v.setInt32(16, -16, true);
    expect(parseNflogDatagram(ack).acks).toEqual([{ seq: 7, error: 16 }]);
  });

  test("a truncated datagram yields what is whole and stops", () => {
    expect(parseNflogDatagram(UDP4.subarray(0, 60)).packets).toEqual([]);
    const cut = new Uint8Array([...UDP4, ...TCP6_SYN.subarray(0, 50)]);
    expect(parseNflogDatagram(cut).packets.length).toBe(1);
  });

  test("a packet message without payload is counted as undecoded", () => {
    // Keep the header and the prefix attribute only (cut the length to 4+16+4+8+... bytes).
    const m = UDP4.slice(0, 20 + 8 + 32);
    new DataView(m.buffer).setUint32(0, m.length, true);
    const d = parseNflogDatagram(m);
    expect(d.packets).toEqual([]);
    expect(d.undecoded).toBe(1);
  });
});

describe("parseIpHeaders", () => {
  test("ICMP echo request: type and code, no ports", () => {
    const ip = hex("45000054000040004001000a0a0001010a000202" + "0800f7ff00010001");
    expect(parseIpHeaders(ip)).toMatchObject({
      family: 4,
      src: "10.0.1.1",
      dst: "10.0.2.2",
      protocol: "ICMP",
      icmp: { type: 8, code: 0 },
    });
  });

  test("a non-first IPv4 fragment has no ports", () => {
    const ip = hex("4500001d0000002040110000" + "0a000101" + "0a000202" + "a369270f");
    const h = parseIpHeaders(ip)!;
    expect(h.protocol).toBe("UDP");
    expect(h.dstPort).toBeUndefined();
  });

  test("IPv6 with a hop-by-hop header before UDP", () => {
    const hdr = `60000000001000ff${"fd00".padEnd(32, "0")}${"fd00".padEnd(30, "0")}02`;
    // next header 0 (hop-by-hop) at byte 6: replace ff by 00; then an 8-byte HBH with next=17.
    const ip = hex(hdr.slice(0, 12) + "00" + hdr.slice(14) + "1100000000000000" + "303901bb00080000");
    expect(parseIpHeaders(ip)).toMatchObject({
      family: 6,
      dst: "fd00::2",
      protocol: "UDP",
      srcPort: 12345,
      dstPort: 443,
    });
  });

  test("not IP, or too short: undefined", () => {
    expect(parseIpHeaders(hex("00"))).toBeUndefined();
    expect(parseIpHeaders(hex("4500"))).toBeUndefined();
    expect(parseIpHeaders(new Uint8Array())).toBeUndefined();
  });
});
