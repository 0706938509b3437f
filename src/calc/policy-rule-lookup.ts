import { contains, parseCidr } from "../model/cidr.ts";
import { formatIp, type Ip, parseIp } from "../model/ip.ts";
import type { Protocol } from "../model/k8s-resources.ts";
import type { PolicyIR } from "./policy-ir.ts";
import { type Direction, POD_MAP } from "./policy-names.ts";
import type { PolicyRule, RuleMatch } from "./policy-rule.ts";

/** The first packet of a new connection, as policy sees it. */
export interface PolicyPacket {
  src: string;
  dst: string;
  /** ICMP: matches only rules without ports (NetworkPolicy ports are TCP, UDP or SCTP). */
  protocol: Protocol | "ICMP";
  port: number;
}

/** The rule of a pod chain that decides a packet, with its chain and position. */
export interface RuleHit {
  direction: Direction;
  chain: string;
  index: number;
  rule: PolicyRule;
}

/**
 * Which rules of the IR decide a new connection's first packet, read from the IR alone (the
 * data an explanation of a verdict is computed from): the egress chain of the source when it is
 * a local egress-isolated pod, then the ingress chain of the destination when it is a local
 * ingress-isolated pod. A direction without a chain is absent (not isolated: allowed). Each hit
 * is the first rule with a verdict that matches, as the kernel evaluates the chain.
 */
export function lookupPolicyRules(
  ir: PolicyIR,
  p: PolicyPacket,
  /** Look at one direction only (explain evaluates each on the node that enforces it). */
  only?: Direction,
): Partial<Record<Direction, RuleHit>> {
  const src = parseIp(p.src);
  const dst = parseIp(p.dst);
  const out: Partial<Record<Direction, RuleHit>> = {};
  for (const direction of only ? [only] : (["egress", "ingress"] as const)) {
    const local = direction === "egress" ? src : dst;
    const chain = chainOf(ir, direction, local);
    if (!chain) continue;
    const rules = ir.chains.get(chain)?.rules ?? [];
    const index = rules.findIndex((r) => r.verdict !== undefined && matches(ir, r.match, src, dst, p));
    if (index < 0) continue; // a chain always ends in a drop; no hit only for a malformed IR
    out[direction] = { direction, chain, index, rule: rules[index]! };
    if (rules[index]!.verdict === "drop") break; // dropped on egress: never reaches ingress
  }
  return out;
}

/** The chain a local pod's address jumps to in the verdict map of a direction. */
function chainOf(ir: PolicyIR, dir: Direction, ip: Ip): string | undefined {
  const map = ir.sets.get(POD_MAP[dir][ip.family]);
  if (map?.type !== "addr-verdict") return undefined;
  const text = formatIp(ip);
  return map.elements.find((e) => e.addr === text)?.jump;
}

function inSet(ir: PolicyIR, name: string, ip: Ip): boolean {
  const s = ir.sets.get(name);
  if (s?.type !== "addr" || s.family !== ip.family) return false;
  if (!s.interval) return s.elements.includes(formatIp(ip));
  return s.elements.some((c) => contains(parseCidr(c), ip));
}

/** Whether a new connection's packet matches (conntrack states never: it is the first packet). */
function matches(ir: PolicyIR, m: RuleMatch, src: Ip, dst: Ip, p: PolicyPacket): boolean {
  if (m.ct) return false;
  if (m.family !== undefined && m.family !== src.family) return false;
  if (m.addr) {
    const ip = m.addr.side === "src" ? src : dst;
    if (!inSet(ir, m.addr.set, ip)) return false;
    if (m.addr.notIn && inSet(ir, m.addr.notIn, ip)) return false;
  }
  if (m.ports && !m.ports.some((r) => r.protocol === p.protocol && r.from <= p.port && p.port <= r.to))
    return false;
  if (m.addrPort) {
    const s = ir.sets.get(m.addrPort.set);
    const addr = formatIp(dst);
    if (s?.type !== "addr-proto-port") return false;
    if (!s.elements.some((e) => e.addr === addr && e.protocol === p.protocol && e.port === p.port))
      return false;
  }
  return true;
}
