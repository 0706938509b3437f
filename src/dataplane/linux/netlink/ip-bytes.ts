import { IP_BITS, type Ip } from "../../../model/ip.ts";

/** An address in network byte order, as netlink attributes carry it (4 or 16 bytes). */
export function ipBytes(ip: Ip): Uint8Array {
  const n = IP_BITS[ip.family] / 8;
  const out = new Uint8Array(n);
  let v = ip.value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
