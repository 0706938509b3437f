import type { NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicyResource } from "../model/k8s-resources.ts";
import type { PolicyProblem } from "./policy-ir.ts";
import type { Direction } from "./policy-names.ts";
import { ALL_PODS, type PeerKey, peerKey } from "./policy-peer-key.ts";
import { FAMILIES, type PolicyPod } from "./policy-pods.ts";
import { type SplitPorts, splitPorts } from "./policy-ports.ts";
import type { AddrSide, PolicyRule, PortMatch, RuleMatch } from "./policy-rule.ts";
import type { SetRegistry } from "./policy-set-registry.ts";

export type Report = (code: PolicyProblem["code"], message: string) => void;

/** What an allowed packet gets: ingress is the last check, egress goes on to the destination's ingress. */
const ALLOW = { ingress: "accept", egress: "return" } as const;

/** The NetworkPolicy rule fields one direction reads: `from` on ingress, `to` on egress. */
interface DirectionRule {
  peers: readonly NetworkPolicyPeer[];
  ports: readonly NetworkPolicyPort[];
}
const directionRules = (pol: NetworkPolicyResource, dir: Direction): DirectionRule[] =>
  dir === "ingress"
    ? (pol.spec.ingress ?? []).map((r) => ({ peers: r.from ?? [], ports: r.ports ?? [] }))
    : (pol.spec.egress ?? []).map((r) => ({ peers: r.to ?? [], ports: r.ports ?? [] }));

const policyName = (pol: NetworkPolicyResource) =>
  `${pol.metadata.namespace ?? "default"}/${pol.metadata.name}`;

/** Ports step: a rule's ports split, reporting SCTP entries this kernel cannot enforce. */
function rulePorts(ports: readonly NetworkPolicyPort[], sctp: boolean, report: Report): SplitPorts {
  const split = splitPorts(ports, sctp);
  if (split.droppedSctp)
    report("sctp-unsupported", "this kernel cannot enforce SCTP: its SCTP allows match nothing");
  return split;
}

/** Peers step: the address matches of one peer (a selector peer: one per family, by set). */
function peerMatches(peer: NetworkPolicyPeer, ns: string, side: AddrSide, reg: SetRegistry): RuleMatch[] {
  const key = peerKey(peer, ns);
  if (!key) {
    const b = reg.ipBlockSets(peer.ipBlock!);
    return [{ family: b.family, addr: { side, set: b.set, ...(b.notIn ? { notIn: b.notIn } : {}) } }];
  }
  return FAMILIES.map((family) => ({ family, addr: { side, set: reg.podSet(key, family) } }));
}

/** Rules step: one allow rule per peer match (or one without address when there are no peers). */
function peerRules(
  pol: NetworkPolicyResource,
  dir: Direction,
  ruleIndex: number,
  peers: readonly NetworkPolicyPeer[],
  ports: PortMatch[],
  reg: SetRegistry,
): PolicyRule[] {
  const ns = pol.metadata.namespace ?? "default";
  const origin = { kind: "allow", policy: policyName(pol), direction: dir, rule: ruleIndex } as const;
  const withPorts = (m: RuleMatch): RuleMatch => (ports.length ? { ...m, ports } : m);
  if (peers.length === 0) return [{ match: withPorts({}), verdict: ALLOW[dir], origin }];
  const side: AddrSide = dir === "ingress" ? "src" : "dst";
  return peers.flatMap((peer, peerIndex) =>
    peerMatches(peer, ns, side, reg).map(
      (m): PolicyRule => ({
        match: withPorts(m),
        verdict: ALLOW[dir],
        origin: { ...origin, peer: peerIndex },
      }),
    ),
  );
}

/**
 * The allow rules of a policy's ingress for one selected (local) pod: named ports resolve on
 * the destination, which is that pod. A rule whose ports all fail to apply matches nothing.
 */
export function ingressRules(
  pol: NetworkPolicyResource,
  pod: PolicyPod,
  reg: SetRegistry,
  sctp: boolean,
  report: Report,
): PolicyRule[] {
  return directionRules(pol, "ingress").flatMap((rule, i) => {
    const split = rulePorts(rule.ports, sctp, report);
    const ranges: PortMatch[] = [...split.numeric];
    for (const n of split.named) {
      for (const p of pod.ports)
        if (p.name === n.name && p.protocol === n.protocol)
          ranges.push({ protocol: n.protocol, from: p.port, to: p.port, index: n.index, name: n.name });
    }
    if (rule.ports.length > 0 && ranges.length === 0) return []; // ports given, none applies
    return peerRules(pol, "ingress", i, rule.peers, ranges, reg);
  });
}

/**
 * The allow rules of a policy's egress (the same for every pod it selects). Named ports resolve
 * on each destination pod: an (ip, proto, port) set per selector peer; an ipBlock destination has
 * no named ports (matches nothing); no `to` means any pod.
 */
export function egressRules(
  pol: NetworkPolicyResource,
  reg: SetRegistry,
  sctp: boolean,
  report: Report,
): PolicyRule[] {
  const ns = pol.metadata.namespace ?? "default";
  return directionRules(pol, "egress").flatMap((rule, i) => {
    const split = rulePorts(rule.ports, sctp, report);
    const out: PolicyRule[] = [];
    if (rule.ports.length === 0 || split.numeric.length > 0) {
      out.push(...peerRules(pol, "egress", i, rule.peers, split.numeric, reg));
    }
    if (split.named.length === 0) return out;
    const peers: { key: PeerKey | undefined; peer?: number }[] =
      rule.peers.length === 0
        ? [{ key: ALL_PODS }]
        : rule.peers.map((p, peer) => ({ key: peerKey(p, ns), peer }));
    for (const { key, peer } of peers) {
      if (!key) continue;
      for (const n of split.named) {
        for (const family of FAMILIES) {
          out.push({
            match: { family, addrPort: { set: reg.namedPortSet(key, n.protocol, n.name, family) } },
            verdict: ALLOW.egress,
            origin: {
              kind: "allow",
              policy: policyName(pol),
              direction: "egress",
              rule: i,
              ...(peer !== undefined ? { peer } : {}),
              port: n.index,
            },
          });
        }
      }
    }
    return out;
  });
}
