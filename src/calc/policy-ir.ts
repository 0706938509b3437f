import type { NamespaceResource, NetworkPolicyResource, PodResource } from "../model/k8s-resources.ts";
import type { PolicyRule } from "./policy-rule.ts";
import type { PolicySet } from "./policy-set.ts";

export type { PolicyRule } from "./policy-rule.ts";
export type { PolicySet } from "./policy-set.ts";

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

/** The hook of the base chain (the only one): a filter chain on forward, accepting by default. */
export interface BaseHook {
  type: "filter";
  hook: "forward";
  priority: number;
  policy: "accept" | "drop";
}

/** One chain of the IR: a pod's chain for one direction, or the base chain (with `base`). */
export interface PolicyChain {
  name: string;
  base?: BaseHook;
  rules: PolicyRule[];
  /** What the chain is for, for a reader of the ruleset ("by allow-web,default-deny"). */
  note?: string;
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

/**
 * Everything policy puts into `table inet tartan` on one node, as data (no nftables syntax;
 * render/policy-nft.ts writes it), plus what status reports. Rules refer to sets by name.
 * compilePolicy (compile-policy.ts) makes it; IncrementalPolicy keeps it up to date.
 */
export interface PolicyIR {
  /** Sets and verdict maps by name, sorted by name. */
  sets: Map<string, PolicySet>;
  chains: Map<string, PolicyChain>;
  /** Named counters. */
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
