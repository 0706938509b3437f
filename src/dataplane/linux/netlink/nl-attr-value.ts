import { formatIp } from "../../../model/ip.ts";

/** Readers of attribute payloads in the encodings rtnetlink uses. */
export const nlAttrValue = {
  u8: (v: DataView): number => v.getUint8(0),
  u32: (v: DataView): number => v.getUint32(0, true),
  /** Network byte order (ports). */
  be16: (v: DataView): number => v.getUint16(0, false),
  /** A NUL-terminated string. */
  str(v: DataView): string {
    const b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    const nul = b.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? b : b.subarray(0, nul));
  },
  /** A link-layer address as iproute2 prints it: lower-case hex, colon separated. */
  mac(v: DataView): string {
    const parts: string[] = [];
    for (let i = 0; i < v.byteLength; i++) parts.push(v.getUint8(i).toString(16).padStart(2, "0"));
    return parts.join(":");
  },
  /** A 4- or 16-byte address in network byte order, as canonical text. */
  ip(v: DataView): string {
    let value = 0n;
    for (let i = 0; i < v.byteLength; i++) value = (value << 8n) | BigInt(v.getUint8(i));
    return formatIp({ family: v.byteLength === 4 ? 4 : 6, value });
  },
  /** True when every byte is zero (an unset address). */
  zero(v: DataView): boolean {
    for (let i = 0; i < v.byteLength; i++) if (v.getUint8(i) !== 0) return false;
    return true;
  },
};
