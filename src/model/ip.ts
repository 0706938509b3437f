import { InvalidValueError } from "./invalid-value.ts";

export type IpFamily = 4 | 6;

/** An IP address as a family and a bigint value: cheap to compare, increment and mask. */
export interface Ip {
  readonly family: IpFamily;
  readonly value: bigint;
}

export const IP_BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

// Dotted quad by hand: this runs for every pod address the agent ingests (validation, policy),
// tens of thousands at a full sync; a split, a regex per part and a bigint shift per byte cost
// ~5 µs an address. Same rules: four parts of 1-3 decimal digits, <= 255, no leading zero.
function parseV4(text: string): bigint | undefined {
  const v = v4Number(text);
  return v < 0 ? undefined : BigInt(v);
}

/**
 * Whether `text` is a dotted-quad IPv4 address as parseIp reads it, untrimmed: then it is also
 * formatIp's canonical text (no leading zeros are accepted). No bigint is made (~1 µs an address
 * at a cold start's 10k pods, twice per pod: ingestion and the policy feed).
 */
export function isIpv4Text(text: string): boolean {
  return v4Number(text) >= 0;
}

/** The dotted quad's value, or -1 when `text` is not one. */
function v4Number(text: string): number {
  const n = text.length;
  if (n < 7 || n > 15) return -1;
  let v = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 46;
    if (c === 46) {
      // "." (or the end): closes a part
      if (digits === 0 || part > 255) return -1;
      v = v * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3 || (digits === 1 && part === 0)) return -1;
      part = part * 10 + (c - 48);
      digits++;
    } else return -1;
  }
  return parts === 4 ? v : -1;
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const toGroups = (s: string): string[] => (s === "" ? [] : s.split(":"));
  const left = toGroups(halves[0] ?? "");
  const right = halves.length === 2 ? toGroups(halves[1] ?? "") : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(Number.parseInt(g, 16));
  }
  if (tailV4 !== undefined) v = (v & ~0xffffffffn) | tailV4;
  return v;
}

/** Parses a dotted IPv4 or an IPv6 address (any RFC 4291 text form). Throws InvalidValueError. */
export function parseIp(text: string, field = "ip"): Ip {
  const t = text.trim();
  const v4 = parseV4(t);
  if (v4 !== undefined) return { family: 4, value: v4 };
  if (t.includes(":")) {
    const v6 = parseV6(t);
    if (v6 !== undefined) return { family: 6, value: v6 };
  }
  throw new InvalidValueError(field, `"${text}" is not an IPv4 or IPv6 address`);
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    const v = Number(ip.value & 0xffffffffn);
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

export function ipEquals(a: Ip, b: Ip): boolean {
  return a.family === b.family && a.value === b.value;
}
