import type { LoggedPacket } from "../../drop-log-source.ts";
import { parseIpHeaders } from "./ip-headers.ts";
import { NFLOG, NFLOG_PACKET_TYPE } from "./nflog.ts";
import { RTNL } from "./rtnl.ts";

/** What one datagram from an nfnetlink_log socket held. */
export interface NflogDatagram {
  packets: LoggedPacket[];
  /** Packet messages that could not be decoded (not IP, truncated): counted, not reported. */
  undecoded: number;
  /** Acks and errors (answers to config requests): errno, 0 for an ack. */
  acks: { seq: number; error: number }[];
}

const NFGENMSG_LEN = 4;

/**
 * Decodes the netlink messages of one datagram: NFULNL_MSG_PACKET messages (nfgenmsg, then
 * attributes: the prefix, the interfaces, the payload from the network header on) become
 * LoggedPackets; NLMSG_DONE (the end of a batch) is skipped; acks are returned. Malformed lengths
 * end the walk (the rest of the datagram cannot be trusted).
 */
export function parseNflogDatagram(buf: Uint8Array): NflogDatagram {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NflogDatagram = { packets: [], undecoded: 0, acks: [] };
  for (let off = 0; off + RTNL.NLMSG_HDRLEN <= buf.length; ) {
    const len = v.getUint32(off, true);
    if (len < RTNL.NLMSG_HDRLEN || off + len > buf.length) break;
    const type = v.getUint16(off + 4, true);
    if (type === RTNL.NLMSG_ERROR && len >= RTNL.NLMSG_HDRLEN + 4) {
      out.acks.push({ seq: v.getUint32(off + 8, true), error: -v.getInt32(off + 16, true) });
    } else if (type === NFLOG_PACKET_TYPE) {
      const p = parsePacketMessage(buf.subarray(off + RTNL.NLMSG_HDRLEN, off + len));
      if (p) out.packets.push(p);
      else out.undecoded++;
    }
    off += (len + 3) & ~3;
  }
  return out;
}

function parsePacketMessage(m: Uint8Array): LoggedPacket | undefined {
  if (m.length < NFGENMSG_LEN) return undefined;
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  let prefix = "";
  let payload: Uint8Array | undefined;
  let inIfindex: number | undefined;
  let outIfindex: number | undefined;
  for (let a = NFGENMSG_LEN; a + 4 <= m.length; ) {
    const alen = v.getUint16(a, true);
    if (alen < 4 || a + alen > m.length) break;
    const type = v.getUint16(a + 2, true) & 0x3fff;
    const data = m.subarray(a + 4, a + alen);
    if (type === NFLOG.NFULA_PREFIX) {
      prefix = new TextDecoder().decode(data).replace(/\0.*$/s, "").trimEnd();
    } else if (type === NFLOG.NFULA_PAYLOAD) {
      payload = data;
    } else if (type === NFLOG.NFULA_IFINDEX_INDEV && alen >= 8) {
      inIfindex = v.getUint32(a + 4, false);
    } else if (type === NFLOG.NFULA_IFINDEX_OUTDEV && alen >= 8) {
      outIfindex = v.getUint32(a + 4, false);
    }
    a += (alen + 3) & ~3;
  }
  const ip = payload ? parseIpHeaders(payload) : undefined;
  if (!ip) return undefined;
  return {
    prefix,
    ...ip,
    ...(inIfindex !== undefined ? { inIfindex } : {}),
    ...(outIfindex !== undefined ? { outIfindex } : {}),
  };
}
