/** FNV-1a's offset basis: where a hash starts. */
export const FNV_OFFSET = 2166136261 | 0;

/**
 * FNV-1a (32-bit) over a string's UTF-16 units, continued from `h` (start with FNV_OFFSET): a
 * cheap, stable hash for names (MACs, router IDs) and intern tables. Signed; `>>> 0` for unsigned.
 */
export function fnv1a(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
}
