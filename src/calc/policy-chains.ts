import type { IpFamily } from "../model/ip.ts";
import type { PodPolicyView, PolicyChain, PolicyProblem } from "./policy-ir.ts";
import {
  type Direction,
  DROP_LOG_GROUP,
  dropCounterName,
  POD_MAP,
  POLICY_BASE_CHAIN,
  podChainName,
} from "./policy-names.ts";
import { FAMILIES, type PolicyPod, podIps } from "./policy-pods.ts";
import type { PolicyRule } from "./policy-rule.ts";
import type { JumpElement, VerdictMap } from "./policy-set.ts";

/** A local pod with, per direction it is isolated in, the isolating policies and their allow rules. */
export interface IsolatedPod {
  pod: PolicyPod;
  dirs: Partial<Record<Direction, { policies: string[]; rules: PolicyRule[]; keys: Set<string> }>>;
}

export interface PolicyChains {
  chains: Map<string, PolicyChain>;
  counters: Set<string>;
  /** The verdict maps (all four, or none when no pod is isolated). */
  maps: VerdictMap[];
  pods: PodPolicyView[];
}

const DIRECTIONS: readonly Direction[] = ["ingress", "egress"];

/**
 * Drops of an isolated pod are logged at most this often, to the agent's log group: under a flood
 * the `limit` stops the copy to user space (the counter before it still counts every packet).
 */
const DROP_LOG = { perSecond: 10, burst: 20, group: DROP_LOG_GROUP } as const;

/** The end of an isolated pod's chain: count and log (rate-limited), then drop. */
function isolationRules(dir: Direction, pod: PolicyPod, policies: string[], counter: string): PolicyRule[] {
  const origin = { kind: "isolation", direction: dir, pod: pod.key, policies } as const;
  const tag = dir === "ingress" ? "ing" : "egr";
  return [
    { match: {}, counter, log: { prefix: `tartan-drop ${tag} ${pod.key}`, ...DROP_LOG }, origin },
    { match: {}, verdict: "drop", origin },
  ];
}

/**
 * The base chain on the forward hook: replies and related traffic of allowed connections pass
 * (NetworkPolicy is about connections), invalid packets drop, then egress is looked up by the
 * local source, ingress by the local destination. Always the same (one object: renderers cache by it).
 */
const BASE_CHAIN: PolicyChain = baseChain();
function baseChain(): PolicyChain {
  const origin = { kind: "base" } as const;
  const vmap = (dir: Direction, family: IpFamily): PolicyRule => ({
    match: { family },
    verdict: { vmap: { side: dir === "egress" ? "src" : "dst", map: POD_MAP[dir][family] } },
    origin,
  });
  return {
    name: POLICY_BASE_CHAIN,
    base: { type: "filter", hook: "forward", priority: 0, policy: "accept" },
    rules: [
      { match: { ct: ["established", "related"] }, verdict: "accept", origin },
      { match: { ct: ["invalid"] }, verdict: "drop", origin },
      vmap("egress", 4),
      vmap("egress", 6),
      vmap("ingress", 4),
      vmap("ingress", 6),
    ],
    note: "tartan policy",
  };
}

/**
 * Whether the previous compile's chain has this content: the same allow rule objects (memoised
 * per policy object, so an unchanged policy gives the same ones) and the same note; the
 * isolation rules then follow from its name and note. Reusing the object lets the renderer skip
 * an unchanged chain by identity.
 */
function sameChain(old: PolicyChain, allows: readonly PolicyRule[], note: string): boolean {
  if (old.note !== note || old.rules.length !== allows.length + 2) return false;
  for (let i = 0; i < allows.length; i++) if (old.rules[i] !== allows[i]) return false;
  return true;
}

/**
 * Chains step: per isolated pod and direction a chain (its allow rules, then the counted drop),
 * a counter, and its addresses in the verdict maps; a pod address already claimed by another
 * local pod is reported and left to the first. The base chain and the maps exist only when some
 * pod is isolated (a node without policy has no policy objects at all). With `prev` (the
 * incremental compile's last chains) an unchanged chain is the previous object.
 */
export function policyChains(
  isolated: IsolatedPod[],
  problems: PolicyProblem[],
  prev?: ReadonlyMap<string, PolicyChain>,
): PolicyChains {
  const chains = new Map<string, PolicyChain>();
  const counters = new Set<string>();
  const mapElems: Record<Direction, Record<IpFamily, JumpElement[]>> = {
    ingress: { 4: [], 6: [] },
    egress: { 4: [], 6: [] },
  };
  const claimed = new Map<string, string>(); // ip -> pod key (local IPs must be unique in a map)
  const views: PodPolicyView[] = [];
  for (const { pod, dirs } of [...isolated].sort((a, b) => (a.pod.key < b.pod.key ? -1 : 1))) {
    const view: PodPolicyView = {
      namespace: pod.namespace,
      name: pod.name,
      ips: [...pod.ips4, ...pod.ips6],
    };
    const mine: { family: IpFamily; ip: string }[] = [];
    for (const family of FAMILIES) {
      for (const ip of podIps(pod, family)) {
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
        mine.push({ family, ip });
      }
    }
    for (const dir of DIRECTIONS) {
      const d = dirs[dir];
      if (!d) continue;
      const name = podChainName(dir, pod.namespace, pod.name);
      const counter = dropCounterName(dir, pod.namespace, pod.name);
      const note = `by ${d.policies.join(",")}`;
      const old = prev?.get(name);
      chains.set(
        name,
        old && sameChain(old, d.rules, note)
          ? old
          : { name, rules: [...d.rules, ...isolationRules(dir, pod, d.policies, counter)], note },
      );
      counters.add(counter);
      for (const { family, ip } of mine) mapElems[dir][family].push({ addr: ip, jump: name });
      view[dir] = { chain: name, counter, policies: d.policies };
    }
    views.push(view);
  }
  const maps: VerdictMap[] = [];
  if (chains.size > 0) {
    for (const dir of DIRECTIONS) {
      for (const family of FAMILIES) {
        const elements = mapElems[dir][family].sort((a, b) =>
          a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : a.jump < b.jump ? -1 : 1,
        );
        maps.push({ name: POD_MAP[dir][family], kind: "map", type: "addr-verdict", family, elements });
      }
    }
    chains.set(POLICY_BASE_CHAIN, BASE_CHAIN);
  }
  return { chains, counters, maps, pods: views };
}
