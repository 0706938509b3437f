import { InvalidValueError } from "./invalid-value.ts";
import { formatIp, IP_BITS, type Ip, type IpFamily, parseIp } from "./ip.ts";

/** An address with a prefix length. `ip` may carry host bits (an interface address); see network(). */
export interface Cidr {
  readonly ip: Ip;
  readonly prefix: number;
}

export function parseCidr(text: string, field = "cidr"): Cidr {
  const slash = text.indexOf("/");
  if (slash < 0) throw new InvalidValueError(field, `"${text}" is not in CIDR notation (address/prefix)`);
  const ip = parseIp(text.slice(0, slash), field);
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > IP_BITS[ip.family]) {
    throw new InvalidValueError(field, `"${text}" has an invalid prefix length (0-${IP_BITS[ip.family]})`);
  }
  return { ip, prefix };
}

/** Parses "a.b.c.d" or "a.b.c.d/n"; a bare address gets the host prefix (/32 or /128). */
export function parseIpOrCidr(text: string, field = "ip"): Cidr {
  if (text.includes("/")) return parseCidr(text, field);
  const ip = parseIp(text, field);
  return { ip, prefix: IP_BITS[ip.family] };
}

export function hostMask(family: IpFamily, prefix: number): bigint {
  return (1n << BigInt(IP_BITS[family] - prefix)) - 1n;
}

/** The network address (host bits cleared). */
export function networkOf(c: Cidr): Ip {
  return { family: c.ip.family, value: c.ip.value & ~hostMask(c.ip.family, c.prefix) };
}

/** The last address of the prefix (the IPv4 broadcast address). */
export function lastOf(c: Cidr): Ip {
  return { family: c.ip.family, value: c.ip.value | hostMask(c.ip.family, c.prefix) };
}

export function contains(c: Cidr, ip: Ip): boolean {
  return c.ip.family === ip.family && networkOf(c).value === (ip.value & ~hostMask(ip.family, c.prefix));
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.ip)}/${c.prefix}`;
}

export function formatNetwork(c: Cidr): string {
  return `${formatIp(networkOf(c))}/${c.prefix}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  if (a.ip.family !== b.ip.family) return false;
  const p = Math.min(a.prefix, b.prefix);
  return contains({ ip: a.ip, prefix: p }, b.ip);
}
