const hex = (c: number) => (c <= 57 ? c - 48 : (c | 0x20) - 87);

/** "0a:58:..." (already validated) as the 6 bytes of IFLA_ADDRESS / NDA_LLADDR. */
export function macBytes(mac: string): Uint8Array {
  // By char codes: this runs for every neighbour and FDB entry the agent writes (thousands a burst).
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = (hex(mac.charCodeAt(i * 3)) << 4) | hex(mac.charCodeAt(i * 3 + 1));
  return out;
}
