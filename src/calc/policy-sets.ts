import { type Cidr, contains, formatNetwork, networkOf, parseCidr } from "../model/cidr.ts";
import type { IpFamily } from "../model/ip.ts";
import type { IPBlock, LabelSelector, Protocol } from "../model/k8s-resources.ts";
import { selectorMatches } from "../model/label-selector.ts";
import { shortHash } from "./policy-names.ts";
import type { PolicyPod } from "./policy-pods.ts";
import { nftProto } from "./policy-ports.ts";

/** One named nft set (or verdict map) of the IR; elements are canonical texts, sorted. */
export interface NftSetIR {
  name: string;
  kind: "set" | "map";
  /** The declaration body, e.g. "type ipv4_addr; flags interval;" (compared with the kernel's). */
  decl: string;
  elements: string[];
}

/** The canonical declaration body, shared by the IR and the reading of the kernel's sets. */
export function setDecl(type: string, opts: { map?: string; interval?: boolean } = {}): string {
  return `type ${type}${opts.map ? ` : ${opts.map}` : ""};${opts.interval ? " flags interval;" : ""}`;
}

/** A selector peer, canonical: which pods it means, independent of which policy wrote it. */
export interface PeerKey {
  /** podSelector alone: pods of this namespace. */
  namespace?: string;
  namespaceSelector?: LabelSelector;
  podSelector: LabelSelector;
}

/** Selectors with sorted keys and values: equal meaning, equal text, equal set name. */
function canonSelector(s: LabelSelector): unknown {
  const labels = Object.entries(s.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const exprs = (s.matchExpressions ?? [])
    .map((e) => ({ k: e.key, o: e.operator, v: [...(e.values ?? [])].sort() }))
    .map((e) => JSON.stringify(e))
    .sort();
  return { l: labels, e: [...new Set(exprs)] };
}

export function peerKeyText(p: PeerKey): string {
  return JSON.stringify({
    ns: p.namespace ?? null,
    nsSel: p.namespaceSelector ? canonSelector(p.namespaceSelector) : null,
    pod: canonSelector(p.podSelector),
  });
}

const ipKw = (f: IpFamily) => (f === 4 ? "ip" : "ip6");
const addrType = (f: IpFamily) => (f === 4 ? "ipv4_addr" : "ipv6_addr");

/** A set a rule names, and how to build it (replayed by later compiles of the same policy). */
export interface SetThunk {
  name: string;
  make: () => NftSetIR;
}

/** Whether a pod is one of the pods a selector peer means (any node). */
export function peerSelects(
  p: PeerKey,
  pod: PolicyPod,
  nsLabels: (namespace: string) => Record<string, string> | undefined,
): boolean {
  if (p.namespace !== undefined && pod.namespace !== p.namespace) return false;
  if (p.namespaceSelector && !selectorMatches(p.namespaceSelector, nsLabels(pod.namespace))) return false;
  return selectorMatches(p.podSelector, pod.labels);
}

/** A `pods4-…` set's elements: the pods' IPs of one family, unique, sorted. */
export function podSetElements(pods: Iterable<PolicyPod>, f: IpFamily): string[] {
  const els = new Set<string>();
  for (const pod of pods) for (const ip of pod.ips[f]) els.add(ip);
  return [...els].sort();
}

/** An `nport4-…` set's elements: (ip . proto . port) of the pods having that named port, sorted. */
export function namedPortElements(
  pods: Iterable<PolicyPod>,
  protocol: Protocol,
  portName: string,
  f: IpFamily,
): string[] {
  const els = new Set<string>();
  for (const pod of pods) {
    for (const port of pod.ports) {
      if (port.name !== portName || port.protocol !== protocol) continue;
      for (const ip of pod.ips[f]) els.add(`${ip} . ${nftProto(protocol)} . ${port.port}`);
    }
  }
  return [...els].sort();
}

/**
 * Where the elements of selector-peer sets come from: evaluated from scratch per compile
 * (FullPeerSource, the reference) or kept up to date between compiles (IncrementalPolicy).
 * `text` is peerKeyText(p). The arrays returned are not modified by the caller.
 */
export interface PeerSource {
  podSetElements(p: PeerKey, text: string, f: IpFamily): string[];
  namedPortElements(p: PeerKey, text: string, protocol: Protocol, portName: string, f: IpFamily): string[];
}

/** Every peer evaluated against every pod, once per compile. */
export class FullPeerSource implements PeerSource {
  private readonly members = new Map<string, PolicyPod[]>();

  constructor(
    private readonly pods: readonly PolicyPod[],
    private readonly nsLabels: ReadonlyMap<string, Record<string, string>>,
  ) {}

  private peerPods(p: PeerKey, text: string): PolicyPod[] {
    let m = this.members.get(text);
    if (!m) {
      m = this.pods.filter((pod) => peerSelects(p, pod, (ns) => this.nsLabels.get(ns)));
      this.members.set(text, m);
    }
    return m;
  }

  podSetElements(p: PeerKey, text: string, f: IpFamily): string[] {
    return podSetElements(this.peerPods(p, text), f);
  }

  namedPortElements(p: PeerKey, text: string, protocol: Protocol, portName: string, f: IpFamily): string[] {
    return namedPortElements(this.peerPods(p, text), protocol, portName, f);
  }
}

/**
 * The named sets one compile needs, created on first use and shared by every rule, policy and pod
 * that names the same thing: pod-IP sets per selector peer and family, ipBlock interval sets, and
 * (ip . proto . port) sets for named ports on egress.
 */
export class SetRegistry {
  readonly sets = new Map<string, NftSetIR>();
  /** Set names by what defines them: each distinct set is hashed once per compile. */
  private readonly names = new Map<string, string>();

  constructor(private readonly source: PeerSource) {}

  private nameOf(prefix: string, text: string): string {
    const k = `${prefix}|${text}`;
    let n = this.names.get(k);
    if (n === undefined) {
      n = `${prefix}-${shortHash(text)}`;
      this.names.set(k, n);
    }
    return n;
  }

  private rec: SetThunk[] | undefined;

  /** Runs fn, appending every set it names to `into` (for replay in a later compile). */
  recording<T>(into: SetThunk[], fn: () => T): T {
    const outer = this.rec;
    this.rec = into;
    try {
      return fn();
    } finally {
      this.rec = outer;
      outer?.push(...into);
    }
  }

  /** Registers the sets a recorded build named (their elements as the source has them now). */
  replay(thunks: readonly SetThunk[]): void {
    for (const t of thunks) this.ensure(t);
    this.rec?.push(...thunks);
  }

  private ensure(t: SetThunk): void {
    if (!this.sets.has(t.name)) this.sets.set(t.name, t.make());
  }

  private use(t: SetThunk): string {
    this.ensure(t);
    this.rec?.push(t);
    return t.name;
  }

  /** `pods4-<hash>`: the peer's pod IPs of one family. */
  podSet(p: PeerKey, f: IpFamily): string {
    const text = peerKeyText(p);
    const name = this.nameOf(`pods${f}`, text);
    const source = this.source;
    return this.use({
      name,
      make: () => ({
        name,
        kind: "set",
        decl: setDecl(addrType(f)),
        elements: source.podSetElements(p, text, f),
      }),
    });
  }

  /** `nport4-<hash>`: (ip . proto . port) of the peer's pods that have this named port. */
  namedPortSet(p: PeerKey, protocol: Protocol, portName: string, f: IpFamily): string {
    const text = peerKeyText(p);
    const name = this.nameOf(`nport${f}`, `${text}|${protocol}|${portName}`);
    const source = this.source;
    return this.use({
      name,
      make: () => ({
        name,
        kind: "set",
        decl: setDecl(`${addrType(f)} . inet_proto . inet_service`),
        elements: source.namedPortElements(p, text, protocol, portName, f),
      }),
    });
  }

  /**
   * The address match of an ipBlock: `ip saddr @blk4-<h>` plus `ip saddr != @blkx4-<h>` when it
   * has exceptions. The CIDR is masked to its network (host bits are legal input); exceptions of
   * the other family or outside the block are dropped, nested ones merged (an interval set
   * refuses overlaps).
   */
  ipBlockMatch(b: IPBlock, dir: "saddr" | "daddr"): string {
    const cidr = parseCidr(b.cidr, "ipBlock.cidr");
    const f = cidr.ip.family;
    const net = formatNetwork(cidr);
    const blk = this.intervalSet(`blk${f}`, [net], f);
    const except = normaliseExcept(cidr, b.except ?? []);
    const kw = ipKw(f);
    if (except.length === 0) return `${kw} ${dir} @${blk}`;
    const x = this.intervalSet(`blkx${f}`, except, f);
    return `${kw} ${dir} @${blk} ${kw} ${dir} != @${x}`;
  }

  private intervalSet(prefix: string, cidrs: string[], f: IpFamily): string {
    const name = `${prefix}-${shortHash(cidrs.join(","))}`;
    const ir: NftSetIR = {
      name,
      kind: "set",
      decl: setDecl(addrType(f), { interval: true }),
      elements: cidrs,
    };
    return this.use({ name, make: () => ir });
  }
}

function normaliseExcept(block: Cidr, except: readonly string[]): string[] {
  const inside = except
    .map((e) => parseCidr(e, "ipBlock.except"))
    .filter((e) => e.ip.family === block.ip.family && e.prefix >= block.prefix && contains(block, e.ip))
    .map((e) => ({ ip: networkOf(e), prefix: e.prefix }))
    .sort((a, b) => a.prefix - b.prefix);
  const kept: Cidr[] = [];
  for (const e of inside) if (!kept.some((k) => contains(k, e.ip))) kept.push(e);
  return [...new Set(kept.map(formatNetwork))].sort();
}

export { addrType, ipKw };
