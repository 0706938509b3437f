import { mergeRanges, type PortRange } from "../calc/policy-ports.ts";
import type { PolicyRule, PortMatch, Verdict } from "../calc/policy-rule.ts";
import type { IpFamily } from "../model/ip.ts";
import type { Protocol } from "../model/k8s-resources.ts";
import { nftName, nftQuoted } from "./nft-text.ts";

/** nft's limit for a log prefix (bytes, with the terminating NUL). */
const LOG_PREFIX_MAX = 127;

export const ipKw = (f: IpFamily): string => (f === 4 ? "ip" : "ip6");
const nftProto = (p: Protocol): string => p.toLowerCase();
const portText = (r: PortRange): string => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`);
const addrKw = (side: "src" | "dst"): string => (side === "src" ? "saddr" : "daddr");

/**
 * The nft match for a list of port entries (merged first): `meta l4proto tcp th dport 80`,
 * `meta l4proto { tcp, udp }` (whole protocols), or one anonymous concatenated set
 * `meta l4proto . th dport { tcp . 80, udp . 1000-2000 }`: one lookup whatever the list's length.
 * `th dport` reads the destination port of TCP, UDP and SCTP alike.
 */
export function renderPortMatch(ranges: readonly PortMatch[] | readonly PortRange[]): string {
  const merged = mergeRanges(ranges);
  if (merged.length === 0) throw new Error("no port range to match");
  if (merged.every((r) => r.from === 0 && r.to === 65535)) {
    const protos = merged.map((r) => nftProto(r.protocol));
    return protos.length === 1 ? `meta l4proto ${protos[0]}` : `meta l4proto { ${protos.join(", ")} }`;
  }
  if (merged.length === 1) {
    const r = merged[0] as PortRange;
    return `meta l4proto ${nftProto(r.protocol)} th dport ${portText(r)}`;
  }
  return `meta l4proto . th dport { ${merged.map((r) => `${nftProto(r.protocol)} . ${portText(r)}`).join(", ")} }`;
}

function renderVerdict(v: Verdict, family: IpFamily | undefined): string {
  if (typeof v === "string") return v;
  if ("jump" in v) return `jump ${nftName(v.jump)}`;
  if (family === undefined) throw new Error(`a verdict map lookup needs a family (map ${v.vmap.map})`);
  return `${ipKw(family)} ${addrKw(v.vmap.side)} vmap @${nftName(v.vmap.map)}`;
}

/** Rendered rules: the incremental compile hands out the same rule objects while their policy is unchanged. */
const rendered = new WeakMap<PolicyRule, string>();

/**
 * One rule of the IR as nft rule text (without `add rule <table> <chain>` and without the
 * comment, which the chain renderer adds to the last rule). Order: conntrack, address, ports,
 * named-port tuple, counter, log, verdict.
 */
export function renderRule(r: PolicyRule): string {
  let text = rendered.get(r);
  if (text === undefined) {
    text = ruleText(r);
    rendered.set(r, text);
  }
  return text;
}

function ruleText(r: PolicyRule): string {
  const m = r.match;
  const parts: string[] = [];
  if (m.ct) parts.push(`ct state ${m.ct.join(",")}`);
  if (m.addr) {
    const kw = `${ipKw(m.family!)} ${addrKw(m.addr.side)}`;
    parts.push(`${kw} @${nftName(m.addr.set)}`);
    if (m.addr.notIn) parts.push(`${kw} != @${nftName(m.addr.notIn)}`);
  }
  if (m.ports?.length) parts.push(renderPortMatch(m.ports));
  if (m.addrPort)
    parts.push(`${ipKw(m.family!)} daddr . meta l4proto . th dport @${nftName(m.addrPort.set)}`);
  if (r.counter) parts.push(`counter name "${nftName(r.counter)}"`);
  if (r.log) {
    const prefix = nftQuoted(r.log.prefix.replaceAll('"', "'"), LOG_PREFIX_MAX - 1);
    // `group`: to nfnetlink_log (the agent's socket); else the kernel log. nft takes one or the other.
    const to = r.log.group === undefined ? "level info" : `group ${r.log.group}`;
    parts.push(
      `limit rate ${r.log.perSecond}/second burst ${r.log.burst} packets log prefix "${prefix} " ${to}`,
    );
  }
  if (r.verdict) parts.push(renderVerdict(r.verdict, m.family));
  return parts.join(" ");
}
