import { formatIp, type IpFamily, isIpv4Text, parseIp } from "../model/ip.ts";
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
  /**
   * Canonical IPs per family (podIps(pod, family) reads them). Two named fields, not an object
   * keyed 4 and 6: JavaScriptCore stores integer keys in an indexed array of its own (~140 bytes
   * more per pod, ~1.4 MB at 10k pods).
   */
  ips4: readonly string[];
  ips6: readonly string[];
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

/** The pod's canonical IPs of one family. */
export function podIps(p: PolicyPod, f: IpFamily): readonly string[] {
  return f === 4 ? p.ips4 : p.ips6;
}

/** Shared by every PolicyPod that has nothing there: frozen, so no reader can write into them. */
const NO_IPS: readonly string[] = Object.freeze([]);
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const NO_PORTS: PolicyPod["ports"] = Object.freeze([]) as unknown as PolicyPod["ports"];
/**
 * Named ports by the containers array they come from: the agent's mirror shares one frozen array
 * between pods with the same containers (agent/pod-parts-table.ts), so pods share their named
 * ports too. Keyed by identity: correct for any input, shared only where the input is.
 */
const portsByContainers = new WeakMap<object, PolicyPod["ports"]>();

function namedPorts(containers: NonNullable<PodResource["spec"]["containers"]>): PolicyPod["ports"] {
  let ports = portsByContainers.get(containers);
  if (ports) return ports;
  // Loops, not nested flatMap: this runs for each of a full sync's 10k+ pods.
  const out: PolicyPod["ports"] = [];
  for (const c of containers)
    for (const cp of c.ports ?? [])
      if (cp.name)
        out.push(Object.freeze({ name: cp.name, protocol: cp.protocol ?? "TCP", port: cp.containerPort }));
  ports = out.length ? (Object.freeze(out) as PolicyPod["ports"]) : NO_PORTS;
  if (Object.isFrozen(containers)) portsByContainers.set(containers, ports);
  return ports;
}

/**
 * One pod as policy sees it, or undefined when policy ignores it (see policyPods). `key`, when
 * given, is a "<ns>/<name>" text the caller holds already (the mirror's key): used as the pod's
 * key when it is that text, so 10k pods do not hold a second copy.
 */
export function policyPod(p: PodResource, key?: string): PolicyPod | undefined {
  const phase = p.status?.phase;
  if (phase === "Succeeded" || phase === "Failed" || p.spec?.hostNetwork) return undefined;
  let v4: string[] | undefined;
  let v6: string[] | undefined;
  for (const { ip } of p.status?.podIPs ?? []) {
    let text = ip;
    let family: IpFamily = 4;
    // A dotted quad is its own canonical text (nearly every pod's address): no parse needed.
    if (typeof ip !== "string" || !isIpv4Text(ip)) {
      try {
        const parsed = parseIp(ip);
        const formatted = formatIp(parsed);
        // The datastore's text when it is already canonical (nearly always): one string, not two.
        text = formatted === ip ? ip : formatted;
        family = parsed.family;
      } catch {
        continue;
      }
    }
    if (family === 4) {
      if (!v4) v4 = [text];
      else if (!v4.includes(text)) v4.push(text);
    } else if (!v6) v6 = [text];
    else if (!v6.includes(text)) v6.push(text);
  }
  if (!v4 && !v6) return undefined;
  const namespace = p.metadata.namespace ?? "default";
  const name = p.metadata.name;
  const containers = p.spec?.containers;
  return {
    namespace,
    name,
    key:
      key !== undefined &&
      key.length === namespace.length + 1 + name.length &&
      key.charCodeAt(namespace.length) === 47 &&
      key.startsWith(namespace) &&
      key.endsWith(name)
        ? key
        : `${namespace}/${name}`,
    labels: p.metadata.labels ?? (NO_LABELS as Record<string, string>),
    node: p.spec?.nodeName,
    ips4: v4 ?? NO_IPS,
    ips6: v6 ?? NO_IPS,
    ports: containers ? namedPorts(containers) : NO_PORTS,
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
