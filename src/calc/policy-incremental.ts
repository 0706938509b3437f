import type { IpFamily } from "../model/ip.ts";
import {
  NAMESPACE_NAME_LABEL,
  type NamespaceResource,
  type NetworkPolicyResource,
  type PodResource,
  type Protocol,
} from "../model/k8s-resources.ts";
import { selectorMatches } from "../model/label-selector.ts";
import { type CompileMemo, compilePolicies } from "./compile-policies.ts";
import { withCandidates } from "./element-delta.ts";
import type { PolicyIR } from "./policy-ir.ts";
import { type PeerKey, peerSelects } from "./policy-peer-key.ts";
import { namedPortElements, type PeerSource, podSetElements } from "./policy-peer-source.ts";
import { type PolicyPod, podIps, policyPod } from "./policy-pods.ts";
import { SetRegistry, type SetThunk } from "./policy-set-registry.ts";
import { objectKey, replaceSorted, sortPolicies } from "./sort-policies.ts";

/** A selector peer some compile used: its member pods and the element arrays of its sets. */
interface PeerEntry {
  key: PeerKey;
  /** Index keys of the member pods. */
  members: Set<string>;
  /** Element arrays by "p<f>" / "n<f>|<proto>|<name>"; cleared when membership or a member changes. */
  sets: Map<string, unknown[]>;
  /**
   * Since the last build of each pod-IP set ("p<f>"): that array, and the addresses that may have
   * come or gone (the IPs of the pods that entered, left or changed), so the next build is the
   * old array updated at those addresses (withCandidates) and carries its delta for the renderer.
   */
  stale?: Map<string, { base: readonly string[]; candidates: Set<string> }>;
}

/** Beyond this many candidate addresses a pod-IP set is simply rebuilt. */
const MAX_CANDIDATES = 512;

const samePod = (a: PolicyPod, b: PolicyPod): boolean =>
  a.key === b.key &&
  a.node === b.node &&
  JSON.stringify([a.labels, a.ips4, a.ips6, a.ports]) === JSON.stringify([b.labels, b.ips4, b.ips6, b.ports]);

/**
 * compilePolicy kept up to date between compiles (decision 0009): the same IR as a full compile
 * of the same objects (test/unit/policy-incremental.test.ts checks it after every step of random
 * change sequences), at a cost that follows the change instead of the cluster:
 * - every selector peer a compile used keeps its member pods and its sets' element arrays;
 * - a changed pod is re-tested against those peers only (O(#peers)), and only the sets of peers
 *   it enters, leaves or belongs to are rebuilt;
 * - a changed Namespace re-tests its own pods against the peers with a namespaceSelector;
 * - a changed policy only invalidates the sorted policy list: a peer first named by it is
 *   evaluated against all pods on first use, and peers no compile uses any more are dropped;
 * - unchanged sets keep the same element arrays, so the delta renderer skips them by identity.
 * - when only set members changed since the last compile (remote pods, Namespaces: nothing that
 *   decides which policies select which local pods, their rules or the sets they name), the last
 *   IR is kept and only the sets of the peers touched are remade: O(change), not O(policies).
 * Otherwise the per-policy pass over this node's pods (at most ~110) runs again.
 */
export class IncrementalPolicy {
  private readonly pods = new Map<string, PolicyPod>();
  /**
   * Pod keys by IP: whether a peer still holds an address. Normally one key, kept as it is; an
   * array only while IPs conflict (an array per pod was ~0.3 MB at 10k pods).
   */
  private readonly byIp = new Map<string, string | string[]>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly local = new Map<string, PolicyPod>();
  private localSorted: PolicyPod[] | undefined;
  private readonly nsLabels = new Map<string, Record<string, string>>();
  private readonly implicitNs = new Map<string, Record<string, string>>();
  private readonly policies = new Map<string, NetworkPolicyResource>();
  private policiesSorted: NetworkPolicyResource[] | undefined;
  private readonly peers = new Map<string, PeerEntry>();
  /** Peers the running compile named; the others are dropped after it. */
  private used = new Set<string>();
  private readonly memo: CompileMemo = { policies: new WeakMap() };
  /** The last compile's IR and how its sets were made (undefined: none yet). */
  private last: { ir: PolicyIR; thunks: ReadonlyMap<string, SetThunk> } | undefined;
  /** Since the last compile: a policy or a local pod changed (the per-policy pass must run). */
  private structural = true;
  /** Since the last compile: peers whose members (or a member) changed, by peerKeyText. */
  private readonly touched = new Set<string>();
  private readonly source: PeerSource = {
    podSetElements: (p, text, f) => this.elements(p, text, `p${f}`, (pods) => podSetElements(pods, f)),
    namedPortElements: (p, text, protocol: Protocol, name: string, f: IpFamily) =>
      this.elements(p, text, `n${f}|${protocol}|${name}`, (pods) =>
        namedPortElements(pods, protocol, name, f),
      ),
  };
  private readonly labelsOf = (ns: string): Record<string, string> => {
    const l = this.nsLabels.get(ns);
    if (l) return l;
    let i = this.implicitNs.get(ns);
    if (!i) {
      i = { [NAMESPACE_NAME_LABEL]: ns };
      this.implicitNs.set(ns, i);
    }
    return i;
  };

  constructor(
    readonly nodeName: string,
    readonly sctp = true,
  ) {}

  /** Upserts (or with undefined removes) the pod mirrored under `key`. */
  setPod(key: string, raw: PodResource | undefined): void {
    const next = raw ? policyPod(raw, key) : undefined;
    const prev = this.pods.get(key);
    if (!prev && !next) return;
    if (prev && next && samePod(prev, next)) return;
    if (prev) {
      this.pods.delete(key);
      this.byNamespace.get(prev.namespace)?.delete(key);
      for (const ip of [...prev.ips4, ...prev.ips6]) {
        const owners = this.byIp.get(ip);
        const left = (typeof owners === "string" ? [owners] : (owners ?? [])).filter((k) => k !== key);
        if (left.length === 0) this.byIp.delete(ip);
        else this.byIp.set(ip, left.length === 1 ? left[0]! : left);
      }
    }
    if (next) {
      this.pods.set(key, next);
      for (const f of [4, 6] as const)
        for (const ip of podIps(next, f)) {
          const owners = this.byIp.get(ip);
          if (owners === undefined) this.byIp.set(ip, key);
          else if (typeof owners === "string") this.byIp.set(ip, [owners, key]);
          else owners.push(key);
        }
      let s = this.byNamespace.get(next.namespace);
      if (!s) {
        s = new Set();
        this.byNamespace.set(next.namespace, s);
      }
      s.add(key);
    }
    if (prev?.node === this.nodeName || next?.node === this.nodeName) {
      this.local.delete(key);
      if (next?.node === this.nodeName) this.local.set(key, next);
      this.localSorted = undefined;
      this.structural = true;
    }
    for (const [text, e] of this.peers) {
      const was = e.members.has(key);
      const is = next !== undefined && peerSelects(e.key, next, this.labelsOf);
      if (is) e.members.add(key);
      else if (was) e.members.delete(key);
      if (was || is) this.invalidate(text, e, was ? prev : undefined, is ? next : undefined);
    }
  }

  /** Upserts (or removes) a Namespace: its pods are re-tested against namespaceSelector peers. */
  setNamespace(name: string, raw: NamespaceResource | undefined): void {
    const labels = raw ? { ...raw.metadata.labels, [NAMESPACE_NAME_LABEL]: raw.metadata.name } : undefined;
    const prev = this.nsLabels.get(name);
    if (JSON.stringify(prev) === JSON.stringify(labels)) return;
    if (labels) this.nsLabels.set(name, labels);
    else this.nsLabels.delete(name);
    const keys = this.byNamespace.get(name);
    if (!keys) return;
    for (const [text, e] of this.peers) {
      if (!e.key.namespaceSelector) continue;
      for (const k of keys) {
        const was = e.members.has(k);
        const is = peerSelects(e.key, this.pods.get(k)!, this.labelsOf);
        if (was === is) continue;
        if (is) e.members.add(k);
        else e.members.delete(k);
        this.invalidate(text, e, this.pods.get(k));
      }
    }
  }

  /** Upserts (or removes) a NetworkPolicy. */
  setPolicy(key: string, raw: NetworkPolicyResource | undefined): void {
    const old = this.policies.get(key);
    if (old === raw) return;
    if (raw) this.policies.set(key, raw);
    else this.policies.delete(key);
    // Kept in compile order in place; re-sorted from scratch only when a policy's key is not
    // its map key (its <ns>/<name> may then collide with another entry's).
    if (this.policiesSorted && (!raw || objectKey(raw) === key) && (!old || objectKey(old) === key))
      replaceSorted(this.policiesSorted, old, raw);
    else this.policiesSorted = undefined;
    this.structural = true;
  }

  /** The IR of everything set so far; equal to compilePolicy of the same objects. */
  compile(): PolicyIR {
    if (!this.structural && this.last) return this.remakeTouchedSets(this.last);
    this.localSorted ??= [...this.local.values()].sort((a, b) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
    );
    this.policiesSorted ??= sortPolicies(this.policies.values());
    this.used = new Set();
    const reg = new SetRegistry(this.source);
    const ir = compilePolicies(this.localSorted, this.policiesSorted, reg, this.sctp, this.memo);
    for (const text of this.peers.keys()) if (!this.used.has(text)) this.peers.delete(text);
    this.last = { ir, thunks: reg.thunks };
    this.structural = false;
    this.touched.clear();
    return ir;
  }

  /**
   * The last IR with the sets of the touched peers made again (everything else, chains included,
   * is what the per-policy pass would give again: rules never depend on set contents). Sets keep
   * their names, so the sorted order of the map holds.
   */
  private remakeTouchedSets(last: { ir: PolicyIR; thunks: ReadonlyMap<string, SetThunk> }): PolicyIR {
    if (this.touched.size === 0) return last.ir;
    const sets = new Map(last.ir.sets);
    for (const [name, t] of last.thunks)
      if (t.peer !== undefined && this.touched.has(t.peer)) sets.set(name, t.make());
    this.touched.clear();
    const ir = { ...last.ir, sets };
    this.last = { ir, thunks: last.thunks };
    return ir;
  }

  /** A member of the peer changed: its sets are built again on next use (see PeerEntry.stale). */
  private invalidate(text: string, e: PeerEntry, ...changed: (PolicyPod | undefined)[]): void {
    this.touched.add(text);
    if (e.sets.size > 0) {
      e.stale ??= new Map();
      for (const [which, els] of e.sets) {
        if (which[0] === "p") e.stale.set(which, { base: els as string[], candidates: new Set() });
      }
      e.sets.clear();
    }
    if (!e.stale) return;
    for (const [which, st] of e.stale) {
      const f = which === "p6" ? 6 : 4;
      for (const p of changed) if (p) for (const ip of podIps(p, f)) st.candidates.add(ip);
      if (st.candidates.size > MAX_CANDIDATES) e.stale.delete(which);
    }
  }

  /** A pod-IP set from its last build and the candidates since, or undefined to build it afresh. */
  private updated(e: PeerEntry, which: string): string[] | undefined {
    const st = e.stale?.get(which);
    if (!st) return undefined;
    e.stale!.delete(which);
    if (e.stale!.size === 0) e.stale = undefined;
    if (st.candidates.size > st.base.length / 2 + 1) return undefined;
    return withCandidates(st.base, st.candidates, (ip) => {
      const owners = this.byIp.get(ip);
      return typeof owners === "string"
        ? e.members.has(owners)
        : (owners?.some((k) => e.members.has(k)) ?? false);
    }) as string[];
  }

  /** Selector peers currently indexed (for tests and metrics). */
  get peerCount(): number {
    return this.peers.size;
  }

  private elements<T>(
    p: PeerKey,
    text: string,
    which: string,
    build: (pods: Iterable<PolicyPod>) => T[],
  ): T[] {
    this.used.add(text);
    let e = this.peers.get(text);
    if (!e) {
      e = { key: p, members: new Set(), sets: new Map() };
      // Namespace by namespace: a podSelector-only peer reads one namespace, a namespaceSelector
      // is tested once per namespace; the pods of the namespaces left are tested one by one.
      const nss = p.namespace !== undefined ? [p.namespace] : this.byNamespace.keys();
      for (const ns of nss) {
        const keys = this.byNamespace.get(ns);
        if (!keys?.size) continue;
        if (p.namespaceSelector && !selectorMatches(p.namespaceSelector, this.labelsOf(ns))) continue;
        // The namespace is decided above for all its pods (peerSelects would test it per pod).
        const sel = p.podSelector;
        for (const k of keys) if (selectorMatches(sel, this.pods.get(k)!.labels)) e.members.add(k);
      }
      this.peers.set(text, e);
    }
    let els = e.sets.get(which) as T[] | undefined;
    if (!els && which[0] === "p") {
      els = this.updated(e, which) as T[] | undefined;
      if (els) e.sets.set(which, els);
    }
    if (!els) {
      const members: PolicyPod[] = [];
      for (const k of e.members) members.push(this.pods.get(k)!);
      els = build(members);
      e.sets.set(which, els);
    }
    return els;
  }
}
