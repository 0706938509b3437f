import { IP_BITS, type Ip } from "../../../model/ip.ts";

/** An address in network byte order, as netlink attributes carry it (4 or 16 bytes). */
export function ipBytes(ip: Ip): Uint8Array {
  if (ip.family === 4) {
    // One bigint conversion instead of four shifts: every route, neighbour and FDB entry has one.
    const v = Number(ip.value);
    return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  const n = IP_BITS[ip.family] / 8;
  const out = new Uint8Array(n);
  let v = ip.value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
