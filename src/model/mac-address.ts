/** A random unicast, locally administered MAC (first octet x2, x6, xa or xe). */
export function randomMac(bytes: Uint8Array): string {
  const b = Array.from(bytes.slice(0, 6));
  while (b.length < 6) b.push(0);
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** A stable MAC derived from a name (used for the bridge, whose MAC must not follow its ports). */
export function stableMac(name: string): string {
  let h = 2166136261;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    for (const c of `${name}#${i}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    out[i] = h & 0xff;
  }
  return randomMac(out);
}
