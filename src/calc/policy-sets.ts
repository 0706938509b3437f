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

/**
 * The named sets one compile needs, created on first use and shared by every rule, policy and pod
 * that names the same thing: pod-IP sets per selector peer and family, ipBlock interval sets, and
 * (ip . proto . port) sets for named ports on egress.
 */
export class SetRegistry {
  readonly sets = new Map<string, NftSetIR>();
  private readonly members = new Map<string, PolicyPod[]>();

  constructor(
    private readonly pods: readonly PolicyPod[],
    private readonly nsLabels: ReadonlyMap<string, Record<string, string>>,
  ) {}

  /** The pods a selector peer means (any node). */
  peerPods(p: PeerKey): PolicyPod[] {
    const k = peerKeyText(p);
    let m = this.members.get(k);
    if (!m) {
      m = this.pods.filter((pod) => {
        if (p.namespace !== undefined && pod.namespace !== p.namespace) return false;
        if (p.namespaceSelector && !selectorMatches(p.namespaceSelector, this.nsLabels.get(pod.namespace))) {
          return false;
        }
        return selectorMatches(p.podSelector, pod.labels);
      });
      this.members.set(k, m);
    }
    return m;
  }

  /** `pods4-<hash>`: the peer's pod IPs of one family. */
  podSet(p: PeerKey, f: IpFamily): string {
    const name = `pods${f}-${shortHash(peerKeyText(p))}`;
    if (!this.sets.has(name)) {
      const elements = [...new Set(this.peerPods(p).flatMap((pod) => pod.ips[f]))].sort();
      this.sets.set(name, { name, kind: "set", decl: setDecl(addrType(f)), elements });
    }
    return name;
  }

  /** `nport4-<hash>`: (ip . proto . port) of the peer's pods that have this named port. */
  namedPortSet(p: PeerKey, protocol: Protocol, portName: string, f: IpFamily): string {
    const name = `nport${f}-${shortHash(`${peerKeyText(p)}|${protocol}|${portName}`)}`;
    if (!this.sets.has(name)) {
      const els = new Set<string>();
      for (const pod of this.peerPods(p)) {
        for (const port of pod.ports) {
          if (port.name !== portName || port.protocol !== protocol) continue;
          for (const ip of pod.ips[f]) els.add(`${ip} . ${nftProto(protocol)} . ${port.port}`);
        }
      }
      this.sets.set(name, {
        name,
        kind: "set",
        decl: setDecl(`${addrType(f)} . inet_proto . inet_service`),
        elements: [...els].sort(),
      });
    }
    return name;
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
    if (!this.sets.has(name)) {
      this.sets.set(name, {
        name,
        kind: "set",
        decl: setDecl(addrType(f), { interval: true }),
        elements: cidrs,
      });
    }
    return name;
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
