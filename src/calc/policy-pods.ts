import { formatIp, type IpFamily, parseIp } from "../model/ip.ts";
import {
  NAMESPACE_NAME_LABEL,
  type NamespaceResource,
  type PodResource,
  type Protocol,
} from "../model/k8s-resources.ts";

/** A pod as policy sees it: identity, labels, node, canonical IPs per family, named ports. */
export interface PolicyPod {
  namespace: string;
  name: string;
  /** "<ns>/<name>" */
  key: string;
  labels: Record<string, string>;
  node: string | undefined;
  ips: { 4: string[]; 6: string[] };
  ports: { name: string; protocol: Protocol; port: number }[];
}

/**
 * The pods policy considers, sorted by key: pods with at least one IP, not in a terminal phase
 * (their IP may already belong to a new pod), not hostNetwork (their traffic is the node's;
 * NETWORKPOLICY.md §5 option b). Unparsable IPs are skipped.
 */
export function policyPods(pods: readonly PodResource[]): PolicyPod[] {
  const out: PolicyPod[] = [];
  for (const p of pods) {
    const pp = policyPod(p);
    if (pp) out.push(pp);
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** One pod as policy sees it, or undefined when policy ignores it (see policyPods). */
export function policyPod(p: PodResource): PolicyPod | undefined {
  const phase = p.status?.phase;
  if (phase === "Succeeded" || phase === "Failed" || p.spec?.hostNetwork) return undefined;
  const ips: { 4: string[]; 6: string[] } = { 4: [], 6: [] };
  for (const { ip } of p.status?.podIPs ?? []) {
    try {
      const parsed = parseIp(ip);
      const text = formatIp(parsed);
      if (!ips[parsed.family].includes(text)) ips[parsed.family].push(text);
    } catch {}
  }
  if (ips[4].length + ips[6].length === 0) return undefined;
  const namespace = p.metadata.namespace ?? "default";
  // Loops, not nested flatMap: this runs for each of a full sync's 10k+ pods.
  const ports: PolicyPod["ports"] = [];
  for (const c of p.spec?.containers ?? [])
    for (const cp of c.ports ?? [])
      if (cp.name) ports.push({ name: cp.name, protocol: cp.protocol ?? "TCP", port: cp.containerPort });
  return {
    namespace,
    name: p.metadata.name,
    key: `${namespace}/${p.metadata.name}`,
    labels: p.metadata.labels ?? {},
    node: p.spec?.nodeName,
    ips,
    ports,
  };
}

/**
 * Labels of every namespace known from Namespace objects or from pods. The API server sets
 * kubernetes.io/metadata.name on every namespace; it is added here too, so a namespace without an
 * object (a lab, a datastore without Namespaces) is still selectable by name.
 */
export function namespaceLabels(
  namespaces: readonly NamespaceResource[],
  pods: readonly PolicyPod[],
): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const ns of namespaces) {
    out.set(ns.metadata.name, { ...ns.metadata.labels, [NAMESPACE_NAME_LABEL]: ns.metadata.name });
  }
  for (const p of pods) {
    if (!out.has(p.namespace)) out.set(p.namespace, { [NAMESPACE_NAME_LABEL]: p.namespace });
  }
  return out;
}

export const FAMILIES: readonly IpFamily[] = [4, 6];
