import { formatIp } from "../../../model/ip.ts";
import type { LoggedPacket, LoggedProtocol } from "../../drop-log-source.ts";

/** The packet fields a drop report needs, read from the network header on. */
export type IpHeaders = Omit<LoggedPacket, "prefix" | "inIfindex" | "outIfindex">;

const PROTOCOLS: Record<number, LoggedProtocol> = {
  1: "ICMP",
  6: "TCP",
  17: "UDP",
  58: "ICMPv6",
  132: "SCTP",
};
/** IPv6 extension headers walked over to reach the transport header (hop-by-hop, routing, dest opts). */
const IPV6_EXTENSIONS = new Set([0, 43, 60]);
const IPV6_FRAGMENT = 44;

function addr(b: Uint8Array, at: number, bytes: 4 | 16): string {
  let v = 0n;
  for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(b[at + i] as number);
  return formatIp({ family: bytes === 4 ? 4 : 6, value: v });
}

/**
 * Source, destination, protocol and ports of an IPv4 or IPv6 packet (the payload nfnetlink_log
 * copies starts at the network header), or undefined when the bytes are too short or not IP.
 * Ports are read only from a first fragment whose transport header was copied.
 */
export function parseIpHeaders(b: Uint8Array): IpHeaders | undefined {
  if (b.length < 1) return undefined;
  const version = (b[0] as number) >> 4;
  let proto: number;
  let l4: number;
  let out: IpHeaders;
  const u16 = (at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);
  if (version === 4) {
    if (b.length < 20) return undefined;
    const ihl = ((b[0] as number) & 0x0f) * 4;
    proto = b[9] as number;
    l4 = ihl;
    const fragOffset = u16(6) & 0x1fff;
    out = {
      family: 4,
      src: addr(b, 12, 4),
      dst: addr(b, 16, 4),
      protocol: PROTOCOLS[proto] ?? proto,
      length: u16(2),
    };
    if (fragOffset !== 0) return out;
  } else if (version === 6) {
    if (b.length < 40) return undefined;
    proto = b[6] as number;
    l4 = 40;
    out = { family: 6, src: addr(b, 8, 16), dst: addr(b, 24, 16), protocol: 0, length: 40 + u16(4) };
    while (IPV6_EXTENSIONS.has(proto) && l4 + 8 <= b.length) {
      const next = b[l4] as number;
      l4 += ((b[l4 + 1] as number) + 1) * 8;
      proto = next;
    }
    if (proto === IPV6_FRAGMENT && l4 + 8 <= b.length) {
      const fragOffset = u16(l4 + 2) >> 3;
      const next = b[l4] as number;
      l4 += 8;
      proto = next;
      out.protocol = PROTOCOLS[proto] ?? proto;
      if (fragOffset !== 0) return out;
    }
    out.protocol = PROTOCOLS[proto] ?? proto;
  } else {
    return undefined;
  }
  if ((proto === 6 || proto === 17 || proto === 132) && l4 + 4 <= b.length) {
    out.srcPort = u16(l4);
    out.dstPort = u16(l4 + 2);
  } else if ((proto === 1 || proto === 58) && l4 + 2 <= b.length) {
    out.icmp = { type: b[l4] as number, code: b[l4 + 1] as number };
  }
  return out;
}
