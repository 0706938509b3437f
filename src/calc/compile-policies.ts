import type { NetworkPolicyResource } from "../model/k8s-resources.ts";
import { selectorMatches } from "../model/label-selector.ts";
import { egressRules, ingressRules, type Report } from "./policy-allow-rules.ts";
import { type IsolatedPod, policyChains } from "./policy-chains.ts";
import type { PolicyChain, PolicyIR, PolicyProblem } from "./policy-ir.ts";
import type { Direction } from "./policy-names.ts";
import type { PolicyPod } from "./policy-pods.ts";
import { type PolicyRule, ruleKey } from "./policy-rule.ts";
import type { SetRegistry, SetThunk } from "./policy-set-registry.ts";
import { objectKey } from "./sort-policies.ts";

/**
 * What compilePolicies may keep between compiles of the same policy objects (the incremental
 * compile; a policy's rules depend only on the policy, the kernel's SCTP support and, for named
 * ingress ports, the selected pod's ports). Keyed by object identity: a changed policy is a new
 * object and starts afresh. The SetRegistry's PeerSource must stay the same across compiles.
 */
export interface CompileMemo {
  policies: WeakMap<NetworkPolicyResource, PolicyMemo>;
  /** The chains of the last compile (an unchanged chain is reused as the same object). */
  chains?: Map<string, PolicyChain>;
}
interface PolicyMemo {
  /** The local pod list the selection was made from (same array = same pods). */
  local?: readonly PolicyPod[];
  selection?: Selection | { error: unknown };
  rules: Map<string, RuleMemo>;
}
interface RuleMemo {
  rules?: PolicyRule[];
  error?: unknown;
  reports: [PolicyProblem["code"], string][];
  sets: SetThunk[];
}

/** Which local pods a policy selects, and for which directions it isolates them. */
interface Selection {
  types: Direction[];
  selected: PolicyPod[];
}

/** Isolation step: the directions a policy isolates (NETWORKPOLICY.md §2 policyTypes). */
function policyTypes(p: NetworkPolicyResource): Direction[] {
  const t = p.spec.policyTypes?.length
    ? p.spec.policyTypes
    : ["Ingress", ...(p.spec.egress?.length ? ["Egress"] : [])];
  return (["ingress", "egress"] as const).filter((d) => t.includes(d === "ingress" ? "Ingress" : "Egress"));
}

/**
 * The local pods by namespace, in their order in `local`, once per local pod list: each policy
 * then tests only its own namespace's pods (1k policies x ~100 local pods was ~15 ms of a first
 * compile, and of every compile after a local pod changed).
 */
const byNamespace = new WeakMap<readonly PolicyPod[], Map<string, PolicyPod[]>>();
function localIn(local: readonly PolicyPod[], ns: string): readonly PolicyPod[] {
  let m = byNamespace.get(local);
  if (!m) {
    m = new Map();
    for (const p of local) {
      const l = m.get(p.namespace);
      if (l) l.push(p);
      else m.set(p.namespace, [p]);
    }
    byNamespace.set(local, m);
  }
  return m.get(ns) ?? [];
}

/** Select step: the local pods of the policy's namespace its podSelector matches. */
function selectPods(pol: NetworkPolicyResource, local: readonly PolicyPod[]): Selection {
  const ns = pol.metadata.namespace ?? "default";
  const sel = pol.spec.podSelector ?? {};
  return {
    types: policyTypes(pol),
    selected: localIn(local, ns).filter((p) => selectorMatches(sel, p.labels)),
  };
}

/** selectPods, from the memo when the same policy object saw the same local pods. Throws for a malformed selector. */
function selection(
  pol: NetworkPolicyResource,
  local: readonly PolicyPod[],
  pm: PolicyMemo | undefined,
): Selection {
  if (pm?.local === local && pm.selection) {
    if ("error" in pm.selection) throw pm.selection.error;
    return pm.selection;
  }
  try {
    const s = selectPods(pol, local);
    if (pm) Object.assign(pm, { local, selection: s });
    return s;
  } catch (error) {
    if (pm) Object.assign(pm, { local, selection: { error } });
    throw error;
  }
}

function policyMemo(memo: CompileMemo, pol: NetworkPolicyResource): PolicyMemo {
  let m = memo.policies.get(pol);
  if (!m) {
    m = { rules: new Map() };
    memo.policies.set(pol, m);
  }
  return m;
}

/**
 * The memo key of a pod's ingress rules: its named ports as text, once per ports array (a pod's
 * ports are a frozen array shared by pods with the same containers): JSON.stringify per pod and
 * policy was ~1 ms of every structural compile at 1k policies.
 */
const portKeys = new WeakMap<object, string>();
const ingressKey = (ports: PolicyPod["ports"]): string => {
  let k = portKeys.get(ports);
  if (k === undefined) {
    k = `i${JSON.stringify(ports)}`;
    // Only frozen arrays can be keyed by identity: a mutable one may change under the key.
    if (Object.isFrozen(ports)) portKeys.set(ports, k);
  }
  return k;
};

/** A rule's key, computed once per rule object (memoised rules are the same objects across compiles). */
const keys = new WeakMap<PolicyRule, string>();
const keyOfRule = (r: PolicyRule): string => {
  let k = keys.get(r);
  if (k === undefined) {
    k = ruleKey(r);
    keys.set(r, k);
  }
  return k;
};

/**
 * The compile proper, shared by the full compile and the incremental one (IncrementalPolicy):
 * `local` are this node's policy pods sorted by key, `policies` sorted by sortPolicies, and the
 * registry's PeerSource says who is in each selector peer. Per policy: select its pods, the
 * directions it isolates, its allow rules (peers → ports → rules); then the chains, maps and base
 * chain of the pods isolated (policyChains).
 */
export function compilePolicies(
  local: readonly PolicyPod[],
  policies: readonly NetworkPolicyResource[],
  reg: SetRegistry,
  sctp: boolean,
  memo?: CompileMemo,
): PolicyIR {
  const problems: PolicyProblem[] = [];
  const isolated = new Map<string, IsolatedPod>();
  let localPolicies = 0;

  for (const pol of policies) {
    const pm = memo ? policyMemo(memo, pol) : undefined;
    let sel: Selection;
    try {
      sel = selection(pol, local, pm);
    } catch (e) {
      problems.push({ object: objectKey(pol), code: "policy-invalid", message: messageOf(e) });
      continue;
    }
    if (sel.selected.length === 0 || sel.types.length === 0) continue;
    localPolicies++;
    const reported = new Set<string>();
    const report: Report = (code, message) => {
      if (reported.has(code)) return;
      reported.add(code);
      problems.push({ object: objectKey(pol), code, message });
    };
    const rulesOf = memoisedRules(pm, reg, report);
    let egress: PolicyRule[] | undefined; // egress rules do not depend on the selected pod
    for (const pod of sel.selected) {
      const entry = isolated.get(pod.key) ?? { pod, dirs: {} };
      isolated.set(pod.key, entry);
      for (const dir of sel.types) {
        const d = entry.dirs[dir] ?? { policies: [], rules: [], keys: new Set<string>() };
        entry.dirs[dir] = d;
        d.policies.push(pol.metadata.name);
        try {
          if (dir === "egress") egress ??= rulesOf("e", (r) => egressRules(pol, reg, sctp, r));
          const rules =
            dir === "ingress"
              ? rulesOf(ingressKey(pod.ports), (r) => ingressRules(pol, pod, reg, sctp, r))
              : (egress ?? []);
          // The union of the policies' rules: a rule doing what an earlier one does is left out
          // (the earlier one, and its origin, is the one a packet would meet).
          for (const r of rules) {
            const k = keyOfRule(r);
            if (d.keys.has(k)) continue;
            d.keys.add(k);
            d.rules.push(r);
          }
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

  const { chains, counters, maps, pods } = policyChains([...isolated.values()], problems, memo?.chains);
  if (memo) memo.chains = chains;
  const sets = new Map(reg.sets);
  for (const m of maps) sets.set(m.name, m);
  return {
    // Names sorted by the default order (UTF-16 code units, as `<` compares): no comparator call
    // per comparison, ~1 ms of a new policy's compile at 1k policies.
    sets: new Map([...sets.keys()].sort().map((n) => [n, sets.get(n)!] as const)),
    chains,
    counters,
    pods,
    problems,
    policies: { total: policies.length, local: localPolicies },
  };
}

/**
 * Rules of one direction (and for ingress, one set of named ports on the pod): from the memo
 * when this policy object was compiled before, replaying the sets it registers and its reports.
 */
function memoisedRules(
  pm: PolicyMemo | undefined,
  reg: SetRegistry,
  report: Report,
): (key: string, build: (r: Report) => PolicyRule[]) => PolicyRule[] {
  return (key, build) => {
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
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
