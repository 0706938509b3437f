import { TartanError } from "../errors/tartan-error.ts";

export interface ResourceKind {
  kind: "Pod" | "Namespace" | "NetworkPolicy" | "BGPConfiguration" | "BGPPeer";
  /** What kubectl prints before the name: `pod/web`, `networkpolicy.networking.k8s.io/deny`. */
  prefix: string;
  namespaced: boolean;
}

const KINDS: ResourceKind[] = [
  { kind: "Pod", prefix: "pod", namespaced: true },
  { kind: "Namespace", prefix: "namespace", namespaced: false },
  { kind: "NetworkPolicy", prefix: "networkpolicy.networking.k8s.io", namespaced: true },
  { kind: "BGPConfiguration", prefix: "bgpconfiguration.tartan.dev", namespaced: false },
  { kind: "BGPPeer", prefix: "bgppeer.tartan.dev", namespaced: false },
];

// kubectl's names, plurals and short names.
const ALIASES: Record<string, ResourceKind["kind"]> = {
  pod: "Pod",
  pods: "Pod",
  po: "Pod",
  namespace: "Namespace",
  namespaces: "Namespace",
  ns: "Namespace",
  networkpolicy: "NetworkPolicy",
  networkpolicies: "NetworkPolicy",
  netpol: "NetworkPolicy",
  bgpconfiguration: "BGPConfiguration",
  bgpconfigurations: "BGPConfiguration",
  bgpconfig: "BGPConfiguration",
  bgppeer: "BGPPeer",
  bgppeers: "BGPPeer",
};

/** `pods`, `ns`, `netpol`, `NetworkPolicy`…: the kind, as kubectl resolves resource names. */
export function resourceKind(text: string): ResourceKind {
  const k = Object.hasOwn(ALIASES, text.toLowerCase()) ? ALIASES[text.toLowerCase()] : undefined;
  const found = KINDS.find((x) => x.kind === k);
  if (!found) {
    throw new TartanError(
      "cli-usage",
      `unknown resource type "${text}"`,
      "use pods (po), namespaces (ns), networkpolicies (netpol), bgpconfigurations (bgpconfig) or bgppeers",
    );
  }
  return found;
}
