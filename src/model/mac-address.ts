import { FNV_OFFSET, fnv1a } from "./fnv1a.ts";

/** A random unicast, locally administered MAC (first octet x2, x6, xa or xe). */
export function randomMac(bytes: Uint8Array): string {
  const b = Array.from(bytes.slice(0, 6));
  while (b.length < 6) b.push(0);
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** A stable MAC derived from a name (used for the bridge, whose MAC must not follow its ports). */
export function stableMac(name: string): string {
  let h = FNV_OFFSET;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    h = fnv1a(`${name}#${i}`, h);
    out[i] = h & 0xff;
  }
  return randomMac(out);
}
