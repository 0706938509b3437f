/** "0a:58:..." (already validated) as the 6 bytes of IFLA_ADDRESS / NDA_LLADDR. */
export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(":").map((h) => Number.parseInt(h, 16)));
}
