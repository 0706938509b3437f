import { TartanError } from "../errors/tartan-error.ts";

export interface ResourceKind {
  kind:
    | "Pod"
    | "Namespace"
    | "NetworkPolicy"
    | "BGPConfiguration"
    | "BGPPeer"
    | "Node"
    | "IPPool"
    | "IPAMBlock";
  /** What kubectl prints before the name: `pod/web`, `networkpolicy.networking.k8s.io/deny`. */
  prefix: string;
  namespaced: boolean;
  /** Written by the agents, not by users: `get` shows them, apply/delete/label refuse them. */
  readOnly?: boolean;
}

const KINDS: ResourceKind[] = [
  { kind: "Pod", prefix: "pod", namespaced: true },
  { kind: "Namespace", prefix: "namespace", namespaced: false },
  { kind: "NetworkPolicy", prefix: "networkpolicy.networking.k8s.io", namespaced: true },
  { kind: "Node", prefix: "node", namespaced: false, readOnly: true },
  { kind: "IPPool", prefix: "ippool.tartan.dev", namespaced: false, readOnly: true },
  { kind: "IPAMBlock", prefix: "ipamblock.tartan.dev", namespaced: false, readOnly: true },
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
  node: "Node",
  nodes: "Node",
  no: "Node",
  ippool: "IPPool",
  ippools: "IPPool",
  ipamblock: "IPAMBlock",
  ipamblocks: "IPAMBlock",
  bgpconfiguration: "BGPConfiguration",
  bgpconfigurations: "BGPConfiguration",
  bgpconfig: "BGPConfiguration",
  bgppeer: "BGPPeer",
  bgppeers: "BGPPeer",
};

/**
 * `pods`, `ns`, `netpol`, `NetworkPolicy`…: the kind, as kubectl resolves resource names. The
 * kinds the agents write (nodes, ippools, ipamblocks) only with `readable` (`tartan get`).
 */
export function resourceKind(text: string, o: { readable?: boolean } = {}): ResourceKind {
  const k = Object.hasOwn(ALIASES, text.toLowerCase()) ? ALIASES[text.toLowerCase()] : undefined;
  const found = KINDS.find((x) => x.kind === k && (o.readable || !x.readOnly));
  if (!found && KINDS.some((x) => x.kind === k)) {
    throw new TartanError(
      "cli-usage",
      `${text} are written by the tartan agents and can only be read here`,
      `see them with tartan get ${text}`,
    );
  }
  if (!found) {
    throw new TartanError(
      "cli-usage",
      `unknown resource type "${text}"`,
      "use pods (po), namespaces (ns), networkpolicies (netpol), bgpconfigurations (bgpconfig), bgppeers" +
        (o.readable ? ", nodes (no), ippools or ipamblocks" : ""),
    );
  }
  return found;
}
