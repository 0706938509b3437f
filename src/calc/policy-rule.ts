import type { IpFamily } from "../model/ip.ts";
import type { Protocol } from "../model/k8s-resources.ts";
import type { Direction } from "./policy-names.ts";
import { mergeRanges } from "./policy-ports.ts";

/**
 * One rule of a policy chain as data: what it matches, what it decides, what it counts or logs,
 * and where it came from. No nftables syntax: render/policy-rule-nft.ts writes it, and an
 * explanation of a verdict ("which policy and which rule allowed A→B") reads it.
 */
export interface PolicyRule {
  match: RuleMatch;
  /** Absent for a rule that only counts/logs and lets the packet go on to the next rule. */
  verdict?: Verdict;
  /** A named counter of the table the rule increments. */
  counter?: string;
  /** Rate-limited kernel log of the packets the rule sees. */
  log?: RuleLog;
  origin: RuleOrigin;
}

/** Every field present must match (AND); an empty match matches every packet. */
export interface RuleMatch {
  /** The rule applies to this family only (address or address-keyed map); absent: both. */
  family?: IpFamily;
  /** Connection tracking states, any of them. */
  ct?: CtState[];
  /**
   * The peer's address, in the named set of the IR (by reference); `notIn` an exception set
   * (ipBlock except). `side` is "src" for ingress rules and "dst" for egress rules.
   */
  addr?: { side: AddrSide; set: string; notIn?: string };
  /** Protocol and destination port, any of the entries (absent: any protocol, any port). */
  ports?: PortMatch[];
  /** Egress named ports: (destination address, protocol, port) is an element of this set. */
  addrPort?: { set: string };
}

export type AddrSide = "src" | "dst";
export type CtState = "established" | "related" | "invalid";

/** One entry of a rule's `ports`, as written in the policy (0–65535: the whole protocol). */
export interface PortMatch {
  protocol: Protocol;
  from: number;
  to: number;
  /** Position of the entry in the NetworkPolicy rule's `ports` list. */
  index: number;
  /** The named port this range was resolved from (ingress, on the selected pod). */
  name?: string;
}

/**
 * accept: the packet passes (ingress is the last check); return: allowed here, back to the base
 * chain (egress goes on to the destination's ingress check); drop; jump to a chain; vmap: the
 * verdict is the element of a verdict map keyed by the packet's source or destination address.
 */
export type Verdict =
  | "accept"
  | "return"
  | "drop"
  | { jump: string }
  | { vmap: { side: AddrSide; map: string } };

export interface RuleLog {
  prefix: string;
  perSecond: number;
  burst: number;
  /**
   * The nfnetlink_log group the packets go to (the agent reads them in its own namespace: no
   * kernel log, no host sysctl); absent: the kernel log at level info.
   */
  group?: number;
}

/**
 * Where a rule came from. `allow`: the NetworkPolicy `policy` ("<ns>/<name>"), its `direction`,
 * the index of the rule in spec.ingress/egress, the index of the peer in from/to (absent: the rule
 * has no peers and allows any); the port indices are on `match.ports`, except for an egress
 * named-port rule (`match.addrPort`), whose one named port's index is `port`. `isolation`: the counted,
 * logged drop that ends an isolated pod's chain, with the policies isolating it. `base`: the
 * dispatch rules of the base chain (conntrack, verdict maps).
 */
export type RuleOrigin =
  | { kind: "allow"; policy: string; direction: Direction; rule: number; peer?: number; port?: number }
  | { kind: "isolation"; direction: Direction; pod: string; policies: string[] }
  | { kind: "base" };

/**
 * A text key of what a rule does (match and verdict, ports merged, no origin): equal keys are
 * the same rule. Written out by hand: it is computed for every rule of every compile.
 */
export function ruleKey(r: PolicyRule): string {
  const m = r.match;
  let k = `${m.family ?? ""}|${m.ct?.join(",") ?? ""}|`;
  if (m.addr) k += `${m.addr.side}@${m.addr.set}!${m.addr.notIn ?? ""}`;
  k += "|";
  if (m.ports) {
    const ports =
      m.ports.length === 1
        ? m.ports
        : mergeRanges(m.ports.map((p) => ({ protocol: p.protocol, from: p.from, to: p.to })));
    for (const p of ports) k += `${p.protocol}:${p.from}-${p.to},`;
  }
  k += `|${m.addrPort?.set ?? ""}|`;
  const v = r.verdict;
  k +=
    v === undefined
      ? ""
      : typeof v === "string"
        ? v
        : "jump" in v
          ? `jump ${v.jump}`
          : `vmap ${v.vmap.side} ${v.vmap.map}`;
  if (r.counter) k += `|counter ${r.counter}`;
  if (r.log) k += `|log ${JSON.stringify(r.log)}`;
  return k;
}
