import { compilePolicies } from "./compile-policies.ts";
import type { PolicyIR, PolicySnapshot } from "./policy-ir.ts";
import { FullPeerSource } from "./policy-peer-source.ts";
import { namespaceLabels, policyPods } from "./policy-pods.ts";
import { SetRegistry } from "./policy-set-registry.ts";
import { sortPolicies } from "./sort-policies.ts";

/**
 * Compiles one node's NetworkPolicy enforcement: NETWORKPOLICY.md §3 evaluated into the IR.
 * - A local pod isolated for a direction gets a chain holding the union of the rules of every
 *   policy selecting it for that direction, then a counted, rate-limited logged drop.
 * - Peers become shared named sets (one per selector peer and family; ipBlocks as interval sets),
 *   ports a list of (protocol, range), named ports are resolved on the destination pod (the
 *   local pod for ingress; for egress a set of (peer ip, proto, port)).
 * - Verdict maps from local pod IPs to their chains; a base chain on the forward hook looks them
 *   up after conntrack (replies and related traffic pass). Nothing at all when no local pod is isolated.
 * A policy that cannot be compiled is reported; the pods it selects stay isolated (fail closed).
 */
export function compilePolicy(s: PolicySnapshot): PolicyIR {
  const pods = policyPods(s.pods);
  const source = new FullPeerSource(pods, namespaceLabels(s.namespaces, pods));
  return compilePolicies(
    pods.filter((p) => p.node === s.nodeName),
    sortPolicies(s.policies),
    new SetRegistry(source),
    s.sctp ?? true,
  );
}
