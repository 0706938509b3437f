/**
 * The attributes of a netlink message (or of a nested attribute) from byte `from` to `to` of `v`,
 * by type, each as a view of its payload. The nested and byte-order flag bits are masked off the
 * type; a later attribute of the same type wins, as in the kernel's own nla_parse.
 */
export function nlAttrs(v: DataView, from: number, to: number = v.byteLength): Map<number, DataView> {
  const out = new Map<number, DataView>();
  for (let at = from; at + 4 <= to; ) {
    const len = v.getUint16(at, true);
    if (len < 4 || at + len > to) break;
    out.set(v.getUint16(at + 2, true) & 0x3fff, new DataView(v.buffer, v.byteOffset + at + 4, len - 4));
    at += (len + 3) & ~3;
  }
  return out;
}
