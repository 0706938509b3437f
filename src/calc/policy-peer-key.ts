import type { LabelSelector, NetworkPolicyPeer } from "../model/k8s-resources.ts";
import { selectorMatches } from "../model/label-selector.ts";
import type { PolicyPod } from "./policy-pods.ts";

/** A selector peer, canonical: which pods it means, independent of which policy wrote it. */
export interface PeerKey {
  /** podSelector alone: pods of this namespace. */
  namespace?: string;
  namespaceSelector?: LabelSelector;
  podSelector: LabelSelector;
}

/** Every pod of every namespace: an egress rule with named ports and no `to`. */
export const ALL_PODS: PeerKey = { namespaceSelector: {}, podSelector: {} };

/** The selector peer's canonical key; undefined for ipBlock peers. Throws for a malformed peer. */
export function peerKey(peer: NetworkPolicyPeer, policyNs: string): PeerKey | undefined {
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

/** Selectors with sorted keys and values: equal meaning, equal text, equal set name. */
function canonSelector(s: LabelSelector): unknown {
  const labels = Object.entries(s.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const exprs = (s.matchExpressions ?? [])
    .map((e) => ({ k: e.key, o: e.operator, v: [...(e.values ?? [])].sort() }))
    .map((e) => JSON.stringify(e))
    .sort();
  return { l: labels, e: [...new Set(exprs)] };
}

/** The canonical text of a peer (what its sets are named after). */
export function peerKeyText(p: PeerKey): string {
  return JSON.stringify({
    ns: p.namespace ?? null,
    nsSel: p.namespaceSelector ? canonSelector(p.namespaceSelector) : null,
    pod: canonSelector(p.podSelector),
  });
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
