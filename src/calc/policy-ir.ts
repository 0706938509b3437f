import type { IpFamily } from "../model/ip.ts";
import type {
  NamespaceResource,
  NetworkPolicyPeer,
  NetworkPolicyResource,
  PodResource,
} from "../model/k8s-resources.ts";
import { selectorMatches } from "../model/label-selector.ts";
import {
  type Direction,
  dropCounterName,
  POD_MAP,
  POLICY_BASE_CHAIN,
  podChainName,
  shortHash,
} from "./policy-names.ts";
import { FAMILIES, namespaceLabels, type PolicyPod, policyPods } from "./policy-pods.ts";
import { type PortRange, renderPortMatch, splitPorts } from "./policy-ports.ts";
import {
  FullPeerSource,
  ipKw,
  type NftSetIR,
  type PeerKey,
  SetRegistry,
  type SetThunk,
  setDecl,
} from "./policy-sets.ts";

export type { NftSetIR } from "./policy-sets.ts";

/** What policy is computed from: the cluster as one node's agent knows it. */
export interface PolicySnapshot {
  /** Enforcement is for this node's pods (ingress of local destinations, egress of local sources). */
  nodeName: string;
  pods: readonly PodResource[];
  namespaces: readonly NamespaceResource[];
  policies: readonly NetworkPolicyResource[];
  /** false when the kernel cannot enforce SCTP: SCTP allows then match nothing (reported). */
  sctp?: boolean;
}

/** One chain of the IR. `note` goes into the last rule's comment with the fingerprint. */
export interface NftChainIR {
  name: string;
  /** Base chains only: "type filter hook forward priority filter; policy accept;". */
  hook?: string;
  rules: string[];
  note?: string;
  /** Hash of hook, rules and note; written into the last rule's comment as "fp=<hex>". */
  fingerprint: string;
}

export interface PodDirectionView {
  chain: string;
  counter: string;
  /** Names of the policies (of the pod's namespace) that isolate this direction. */
  policies: string[];
}

export interface PodPolicyView {
  namespace: string;
  name: string;
  ips: string[];
  ingress?: PodDirectionView;
  egress?: PodDirectionView;
}

export interface PolicyProblem {
  /** "<ns>/<name>" of the policy, or of the pod for pod-level problems. */
  object: string;
  code: "policy-invalid" | "sctp-unsupported" | "pod-ip-conflict";
  message: string;
}

/** Everything policy puts into `table inet tartan` on one node, plus what status reports. */
export interface PolicyIR {
  sets: Map<string, NftSetIR>;
  chains: Map<string, NftChainIR>;
  counters: Set<string>;
  /** Local pods isolated in at least one direction, sorted. */
  pods: PodPolicyView[];
  problems: PolicyProblem[];
  /** Policies known (all namespaces) and those selecting a local pod. */
  policies: { total: number; local: number };
}

export const EMPTY_POLICY_IR: PolicyIR = {
  sets: new Map(),
  chains: new Map(),
  counters: new Set(),
  pods: [],
  problems: [],
  policies: { total: 0, local: 0 },
};

// Numeric priority: the form nft -j reports, so the kernel's chain compares equal to the IR's.
const BASE_HOOK = "type filter hook forward priority 0; policy accept;";
const LOG_PREFIX_MAX = 127;
const COMMENT_MAX = 128;

/** nft's per-packet verdict for an allowed packet: ingress is the last check, egress goes on to it. */
const ALLOW: Record<Direction, string> = { ingress: "accept", egress: "return" };

const policyTypes = (p: NetworkPolicyResource): Direction[] => {
  const t = p.spec.policyTypes?.length
    ? p.spec.policyTypes
    : ["Ingress", ...(p.spec.egress?.length ? ["Egress"] : [])];
  return (["ingress", "egress"] as const).filter((d) => t.includes(d === "ingress" ? "Ingress" : "Egress"));
};

const ALL_PODS: PeerKey = { namespaceSelector: {}, podSelector: {} };

/** The selector peer's canonical key; undefined for ipBlock peers. Throws for a malformed peer. */
function peerKey(peer: NetworkPolicyPeer, policyNs: string): PeerKey | undefined {
  if (peer.ipBlock) {
    if (peer.podSelector || peer.namespaceSelector)
      throw new Error("ipBlock cannot be combined with a selector");
    return undefined;
  }
  if (!peer.podSelector && !peer.namespaceSelector) throw new Error("a peer must set at least one field");
  if (peer.namespaceSelector) {
    return { namespaceSelector: peer.namespaceSelector, podSelector: peer.podSelector ?? {} };
  }
  return { namespace: policyNs, podSelector: peer.podSelector ?? {} };
}

/**
 * Compiles one node's NetworkPolicy enforcement: NETWORKPOLICY.md §3 evaluated into nft objects.
 * - A local pod isolated for a direction gets a chain holding the union of the rules of every
 *   policy selecting it for that direction, then a counted, rate-limited logged drop.
 * - Peers become shared named sets (one per selector peer and family; ipBlocks as interval sets),
 *   ports an anonymous (proto . port) set, named ports are resolved on the destination pod (the
 *   local pod for ingress; for egress a set of (peer ip . proto . port)).
 * - Verdict maps from local pod IPs to their chains; a base chain on the forward hook looks them
 *   up after conntrack (replies and related traffic pass). Nothing at all when no local pod is isolated.
 * A policy that cannot be compiled is reported; the pods it selects stay isolated (fail closed).
 */
export function compilePolicy(s: PolicySnapshot): PolicyIR {
  const pods = policyPods(s.pods);
  const source = new FullPeerSource(pods, namespaceLabels(s.namespaces, pods));
  return compileWith(
    pods.filter((p) => p.node === s.nodeName),
    sortPolicies(s.policies),
    new SetRegistry(source),
    s.sctp ?? true,
  );
}

/**
 * What compileWith may keep between compiles of the same policy objects (the incremental
 * compile; a policy's rules depend only on the policy, the kernel's SCTP support and, for named
 * ingress ports, the selected pod's ports). Keyed by object identity: a changed policy is a new
 * object and starts afresh. The SetRegistry's PeerSource must stay the same across compiles.
 */
export interface CompileMemo {
  policies: WeakMap<NetworkPolicyResource, PolicyMemo>;
}
interface PolicyMemo {
  /** The local pod list the selection was made from (same array = same pods). */
  local?: readonly PolicyPod[];
  types?: Direction[];
  selected?: PolicyPod[];
  selectError?: unknown;
  rules: Map<string, RuleMemo>;
}
interface RuleMemo {
  rules?: string[];
  error?: unknown;
  reports: [PolicyProblem["code"], string][];
  sets: SetThunk[];
}
function policyMemo(memo: CompileMemo, pol: NetworkPolicyResource): PolicyMemo {
  let m = memo.policies.get(pol);
  if (!m) {
    m = { rules: new Map() };
    memo.policies.set(pol, m);
  }
  return m;
}

/** Policies in compile order (by "<ns>/<name>"). */
export function sortPolicies(policies: Iterable<NetworkPolicyResource>): NetworkPolicyResource[] {
  return [...policies].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

/**
 * The compile proper, shared by the full compile and the incremental one (IncrementalPolicy):
 * `local` are this node's policy pods sorted by key, `policies` sorted by sortPolicies, and the
 * registry's PeerSource says who is in each selector peer.
 */
export function compileWith(
  local: readonly PolicyPod[],
  policies: readonly NetworkPolicyResource[],
  reg: SetRegistry,
  sctp: boolean,
  memo?: CompileMemo,
): PolicyIR {
  const problems: PolicyProblem[] = [];
  // Per local pod and direction: the policies isolating it and the rules they allow.
  const acc = new Map<
    string,
    { pod: PolicyPod; dirs: Partial<Record<Direction, { policies: string[]; rules: string[] }>> }
  >();
  let localPolicies = 0;

  for (const pol of policies) {
    const ns = pol.metadata.namespace ?? "default";
    const pm = memo ? policyMemo(memo, pol) : undefined;
    let selected: PolicyPod[];
    let types: Direction[];
    try {
      if (pm?.local === local) {
        if (pm.selectError !== undefined) throw pm.selectError;
        types = pm.types!;
        selected = pm.selected!;
      } else {
        try {
          types = policyTypes(pol);
          selected = local.filter(
            (p) => p.namespace === ns && selectorMatches(pol.spec.podSelector ?? {}, p.labels),
          );
          if (pm) Object.assign(pm, { local, types, selected, selectError: undefined });
        } catch (e) {
          if (pm) Object.assign(pm, { local, types: undefined, selected: undefined, selectError: e });
          throw e;
        }
      }
    } catch (e) {
      problems.push({ object: keyOf(pol), code: "policy-invalid", message: messageOf(e) });
      continue;
    }
    if (selected.length === 0 || types.length === 0) continue;
    localPolicies++;
    let egress: string[] | undefined; // egress rules do not depend on the selected pod
    const reported = new Set<string>();
    const report = (code: PolicyProblem["code"], message: string) => {
      if (reported.has(code)) return;
      reported.add(code);
      problems.push({ object: keyOf(pol), code, message });
    };
    // Rules of one direction (and for ingress, one set of named ports on the pod): from the memo
    // when this policy object was compiled before, replaying the sets it registers and its reports.
    const rulesOf = (key: string, build: (r: Report) => string[]): string[] => {
      if (!pm) return build(report);
      const m = pm.rules.get(key);
      if (!m) {
        const rec: RuleMemo = { reports: [], sets: [] };
        try {
          rec.rules = reg.recording(rec.sets, () =>
            build((code, message) => {
              rec.reports.push([code, message]);
              report(code, message);
            }),
          );
        } catch (e) {
          rec.error = e;
        }
        pm.rules.set(key, rec);
        if (rec.error !== undefined) throw rec.error;
        return rec.rules!;
      }
      reg.replay(m.sets);
      for (const [code, message] of m.reports) report(code, message);
      if (m.error !== undefined) throw m.error;
      return m.rules!;
    };
    for (const pod of selected) {
      const entry = acc.get(pod.key) ?? { pod, dirs: {} };
      acc.set(pod.key, entry);
      for (const dir of types) {
        const d = entry.dirs[dir] ?? { policies: [], rules: [] };
        entry.dirs[dir] = d;
        d.policies.push(pol.metadata.name);
        try {
          if (dir === "egress" && !egress) egress = rulesOf("e", (r) => egressRules(pol, reg, sctp, r));
          const rules =
            dir === "ingress"
              ? rulesOf(`i${JSON.stringify(pod.ports)}`, (r) => ingressRules(pol, pod, reg, sctp, r))
              : (egress ?? []);
          for (const r of rules) if (!d.rules.includes(r)) d.rules.push(r);
        } catch (e) {
          // The pod stays isolated by this policy; only its allows are missing.
          report(
            "policy-invalid",
            `${messageOf(e)}; the pods it selects stay isolated without its allow rules`,
          );
        }
      }
    }
  }

  const chains = new Map<string, NftChainIR>();
  const counters = new Set<string>();
  const mapElems = {
    ingress: { 4: [] as string[], 6: [] as string[] },
    egress: { 4: [] as string[], 6: [] as string[] },
  };
  const claimed = new Map<string, string>(); // ip -> pod key (local IPs must be unique in a map)
  const views: PodPolicyView[] = [];
  for (const { pod, dirs } of [...acc.values()].sort((a, b) => (a.pod.key < b.pod.key ? -1 : 1))) {
    const view: PodPolicyView = {
      namespace: pod.namespace,
      name: pod.name,
      ips: [...pod.ips[4], ...pod.ips[6]],
    };
    const mine: { f: IpFamily; ip: string }[] = [];
    for (const f of FAMILIES) {
      for (const ip of pod.ips[f]) {
        const other = claimed.get(ip);
        if (other) {
          problems.push({
            object: pod.key,
            code: "pod-ip-conflict",
            message: `IP ${ip} is also claimed by ${other}; ${other} keeps it`,
          });
          continue;
        }
        claimed.set(ip, pod.key);
        mine.push({ f, ip });
      }
    }
    for (const dir of ["ingress", "egress"] as const) {
      const d = dirs[dir];
      if (!d) continue;
      const name = podChainName(dir, pod.namespace, pod.name);
      const counter = dropCounterName(dir, pod.namespace, pod.name);
      const tag = dir === "ingress" ? "ing" : "egr";
      const prefix = `tartan-drop ${tag} ${pod.key}`.slice(0, LOG_PREFIX_MAX - 1);
      const rules = [
        ...d.rules,
        `counter name "${counter}" limit rate 10/second burst 20 packets log prefix "${prefix} " level info`,
        "drop",
      ];
      chains.set(name, chainIR(name, rules, `by ${d.policies.join(",")}`));
      counters.add(counter);
      for (const { f, ip } of mine) mapElems[dir][f].push(`${ip} : jump ${name}`);
      view[dir] = { chain: name, counter, policies: d.policies };
    }
    views.push(view);
  }

  const sets = new Map(reg.sets);
  if (chains.size > 0) {
    for (const dir of ["ingress", "egress"] as const) {
      for (const f of FAMILIES) {
        const name = POD_MAP[dir][f];
        sets.set(name, {
          name,
          kind: "map",
          decl: setDecl(f === 4 ? "ipv4_addr" : "ipv6_addr", { map: "verdict" }),
          elements: mapElems[dir][f].sort(),
        });
      }
    }
    // Egress is looked up by the local source, ingress by the local destination.
    const m = (dir: Direction, f: IpFamily) =>
      `${ipKw(f)} ${dir === "egress" ? "saddr" : "daddr"} vmap @${POD_MAP[dir][f]}`;
    chains.set(
      POLICY_BASE_CHAIN,
      chainIR(
        POLICY_BASE_CHAIN,
        [
          // Replies and related ICMP of allowed connections pass (NetworkPolicy is about connections).
          "ct state established,related accept",
          "ct state invalid drop",
          m("egress", 4),
          m("egress", 6),
          m("ingress", 4),
          m("ingress", 6),
        ],
        "tartan policy",
        BASE_HOOK,
      ),
    );
  }
  return {
    sets: new Map([...sets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    chains,
    counters,
    pods: views,
    problems,
    policies: { total: policies.length, local: localPolicies },
  };
}

function chainIR(name: string, rules: string[], note: string, hook?: string): NftChainIR {
  // "fp=" + 12 hex + " " comes first; nft comments hold at most 128 characters.
  const room = COMMENT_MAX - 16;
  const short = note.length > room ? `${note.slice(0, room - 3)}...` : note;
  const fingerprint = shortHash(JSON.stringify([hook ?? "", rules, short]));
  return { name, ...(hook ? { hook } : {}), rules, note: short, fingerprint };
}

type Report = (code: PolicyProblem["code"], message: string) => void;

function ingressRules(
  pol: NetworkPolicyResource,
  pod: PolicyPod,
  reg: SetRegistry,
  sctp: boolean,
  report: Report,
): string[] {
  const ns = pol.metadata.namespace ?? "default";
  const out: string[] = [];
  for (const rule of pol.spec.ingress ?? []) {
    const ports = rule.ports ?? [];
    const split = splitPorts(ports, sctp);
    if (split.droppedSctp)
      report("sctp-unsupported", "this kernel cannot enforce SCTP: its SCTP allows match nothing");
    // Named ports resolve on the destination: the selected (local) pod itself.
    const ranges: PortRange[] = [...split.numeric];
    for (const n of split.named) {
      for (const p of pod.ports)
        if (p.name === n.name && p.protocol === n.protocol)
          ranges.push({ protocol: n.protocol, from: p.port, to: p.port });
    }
    if (ports.length > 0 && ranges.length === 0) continue; // ports given, none applies: matches nothing
    const portMatch = ranges.length ? renderPortMatch(ranges) : "";
    const from = rule.from ?? [];
    if (from.length === 0) out.push(join(portMatch, ALLOW.ingress));
    for (const peer of from) {
      for (const m of peerMatches(peer, ns, "saddr", reg)) out.push(join(m, portMatch, ALLOW.ingress));
    }
  }
  return out;
}

function egressRules(pol: NetworkPolicyResource, reg: SetRegistry, sctp: boolean, report: Report): string[] {
  const ns = pol.metadata.namespace ?? "default";
  const out: string[] = [];
  for (const rule of pol.spec.egress ?? []) {
    const ports = rule.ports ?? [];
    const split = splitPorts(ports, sctp);
    if (split.droppedSctp)
      report("sctp-unsupported", "this kernel cannot enforce SCTP: its SCTP allows match nothing");
    const to = rule.to ?? [];
    if (ports.length === 0 || split.numeric.length > 0) {
      const portMatch = split.numeric.length ? renderPortMatch(split.numeric) : "";
      if (to.length === 0) out.push(join(portMatch, ALLOW.egress));
      for (const peer of to)
        for (const m of peerMatches(peer, ns, "daddr", reg)) out.push(join(m, portMatch, ALLOW.egress));
    }
    if (split.named.length === 0) continue;
    // Named ports resolve on each destination pod: (ip . proto . port) sets per selector peer. An
    // ipBlock destination has no named ports (matches nothing); no `to` means any pod.
    const keys = to.length === 0 ? [ALL_PODS] : to.flatMap((p) => peerKey(p, ns) ?? []);
    for (const k of keys) {
      for (const n of split.named) {
        for (const f of FAMILIES) {
          const set = reg.namedPortSet(k, n.protocol, n.name, f);
          out.push(`${ipKw(f)} daddr . meta l4proto . th dport @${set} ${ALLOW.egress}`);
        }
      }
    }
  }
  return out;
}

function peerMatches(
  peer: NetworkPolicyPeer,
  ns: string,
  dir: "saddr" | "daddr",
  reg: SetRegistry,
): string[] {
  const key = peerKey(peer, ns);
  if (!key) return [reg.ipBlockMatch(peer.ipBlock!, dir)];
  return FAMILIES.map((f) => `${ipKw(f)} ${dir} @${reg.podSet(key, f)}`);
}

const join = (...parts: string[]): string => parts.filter((p) => p !== "").join(" ");
const keyOf = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
