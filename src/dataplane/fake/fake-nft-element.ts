import { lastOf, networkOf, parseIpOrCidr } from "../../model/cidr.ts";
import { formatIp, IP_BITS, type IpFamily, parseIp } from "../../model/ip.ts";

/** One element of a fake nft set: its identity, its `nft -j` form, and for interval sets its range. */
export interface FakeElement {
  /** Canonical text identifying the element (the key of a map element). */
  key: string;
  /** The element as `nft -j list` prints it (without a map's verdict). */
  json: unknown;
  /** Interval sets: the addresses it covers, inclusive. */
  range?: [bigint, bigint];
  /** Maps: the verdict, e.g. "jump ing/prod/web". */
  verdict?: string;
}

const PROTOCOLS: Record<string, string> = { "6": "tcp", "17": "udp", "132": "sctp", "1": "icmp" };

/** Throws the kernel's / nft's words for a value it refuses. */
function refuse(why: string): never {
  throw new Error(why);
}

function addrFamily(type: string): IpFamily | undefined {
  return type === "ipv4_addr" ? 4 : type === "ipv6_addr" ? 6 : undefined;
}

/** One address (or prefix / range, in interval sets) of a set of `type`. */
function addrElement(text: string, family: IpFamily, interval: boolean): FakeElement {
  const wrongFamily = () => refuse("Could not resolve hostname: Address family for hostname not supported");
  if (interval && text.includes("-") && !text.includes("/")) {
    const [a, b] = text.split("-").map((t) => parseIp(t.trim()));
    if (a!.family !== family || b!.family !== family) wrongFamily();
    if (a!.value > b!.value) refuse("Range has zero or negative size");
    return {
      key: `${formatIp(a!)}-${formatIp(b!)}`,
      json: { range: [formatIp(a!), formatIp(b!)] },
      range: [a!.value, b!.value],
    };
  }
  const c = parseIpOrCidr(text);
  if (c.ip.family !== family) wrongFamily();
  if (!interval) {
    if (c.prefix !== IP_BITS[family]) refuse("set without interval flag cannot hold a prefix");
    return { key: formatIp(c.ip), json: formatIp(c.ip) };
  }
  const lo = networkOf(c);
  const hi = lastOf(c);
  const full = c.prefix === IP_BITS[family];
  return {
    key: full ? formatIp(lo) : `${formatIp(lo)}/${c.prefix}`,
    json: full ? formatIp(lo) : { prefix: { addr: formatIp(lo), len: c.prefix } },
    range: [lo.value, hi.value],
  };
}

/** One component of a concatenation (or a whole element of a plain set). */
function component(text: string, type: string): { key: string; json: unknown } {
  const family = addrFamily(type);
  if (family) return addrElement(text, family, false);
  if (type === "inet_proto") {
    const name = PROTOCOLS[text] ?? text;
    if (!Object.values(PROTOCOLS).includes(name)) refuse(`Could not resolve protocol name "${text}"`);
    return { key: name, json: name };
  }
  if (type === "inet_service") {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 65535) refuse(`Could not resolve service "${text}"`);
    return { key: String(n), json: n };
  }
  return refuse(`the fake nft does not model the type ${type}`);
}

/**
 * Parses one element of a set declared with `types` (concatenated with " . "), with a verdict for
 * maps ("10.0.0.1 : jump ing/prod/web"). Throws for a value the kernel would refuse.
 */
export function parseElement(
  text: string,
  types: readonly string[],
  interval: boolean,
  map: boolean,
): FakeElement {
  let keyText = text.trim();
  let verdict: string | undefined;
  if (map) {
    const i = keyText.indexOf(" : ");
    if (i < 0) refuse(`a map element needs "key : value": ${text}`);
    verdict = keyText
      .slice(i + 3)
      .trim()
      .replace(/\s+/g, " ");
    keyText = keyText.slice(0, i).trim();
  }
  const parts = keyText.split(" . ").map((p) => p.trim());
  if (parts.length !== types.length) refuse(`datatype mismatch: ${text} for ${types.join(" . ")}`);
  let el: FakeElement;
  if (types.length === 1) {
    const family = addrFamily(types[0]!);
    el = family ? addrElement(parts[0]!, family, interval) : { ...component(parts[0]!, types[0]!) };
  } else {
    const comps = parts.map((p, i) => component(p, types[i]!));
    el = { key: comps.map((c) => c.key).join(" . "), json: { concat: comps.map((c) => c.json) } };
  }
  return verdict === undefined ? el : { ...el, verdict };
}

/** The `nft -j` form of a verdict ("jump X" → {jump: {target: X}}, "accept" → {accept: null}). */
export function verdictJson(v: string): unknown {
  const [kw, target] = v.split(" ");
  return target === undefined ? { [kw!]: null } : { [kw!]: { target } };
}
