import type {
  LabelSelector,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicyResource,
} from "../model/k8s-resources.ts";
import type { Direction } from "./policy-names.ts";
import type { PolicyRule } from "./policy-rule.ts";

/** The allow rule that decided a direction, as a reader finds it in the NetworkPolicy's YAML. */
export interface DecidingRule {
  /** "<ns>/<name>" of the NetworkPolicy. */
  policy: string;
  /** Index in spec.ingress / spec.egress. */
  index: number;
  /** Index in the rule's from / to; absent: the rule has no peers (any source / destination). */
  peer?: number;
  /** Index in the rule's ports; absent: the rule has no ports (every port). */
  port?: number;
  /** e.g. `spec.ingress[1]: from[0] namespaceSelector {team=dev}, ports[1] http (TCP 8080)`. */
  text: string;
}

function selectorText(s: LabelSelector): string {
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    parts.push(`${e.key} ${e.operator}${e.values ? ` [${e.values.join(",")}]` : ""}`);
  }
  return `{${parts.join(", ")}}`;
}

export function peerText(p: NetworkPolicyPeer): string {
  if (p.ipBlock) {
    const ex = p.ipBlock.except?.length ? ` except ${p.ipBlock.except.join(",")}` : "";
    return `ipBlock ${p.ipBlock.cidr}${ex}`;
  }
  const parts: string[] = [];
  if (p.namespaceSelector) parts.push(`namespaceSelector ${selectorText(p.namespaceSelector)}`);
  if (p.podSelector) parts.push(`podSelector ${selectorText(p.podSelector)}`);
  return parts.join(" and ");
}

function portText(p: NetworkPolicyPort, resolved?: number): string {
  const proto = p.protocol ?? "TCP";
  if (p.port === undefined) return `${proto} any port`;
  if (typeof p.port === "string") return `${p.port} (${proto}${resolved ? ` ${resolved}` : ""})`;
  return p.endPort !== undefined && p.endPort !== p.port
    ? `${proto} ${p.port}-${p.endPort}`
    : `${proto} ${p.port}`;
}

/**
 * The deciding allow rule of a direction (from the IR rule's origin), with its peer and port
 * entry located in the policy object: which entry of `ports` matched is found in the rule's
 * match (ingress, numeric and named ports) or its origin (egress named port).
 */
export function decidingRule(
  rule: PolicyRule,
  policies: readonly NetworkPolicyResource[],
  packet: { protocol: string; port: number },
): DecidingRule | undefined {
  const o = rule.origin;
  if (o.kind !== "allow") return undefined;
  const [ns, name] = o.policy.split("/") as [string, string];
  const np = policies.find((p) => p.metadata.name === name && (p.metadata.namespace ?? "default") === ns);
  const dir: Direction = o.direction;
  const spec = dir === "ingress" ? np?.spec.ingress?.[o.rule] : np?.spec.egress?.[o.rule];
  const peers =
    dir === "ingress"
      ? (spec as { from?: NetworkPolicyPeer[] })?.from
      : (spec as { to?: NetworkPolicyPeer[] })?.to;
  const hitPort =
    o.port ??
    rule.match.ports?.find(
      (r) => r.protocol === packet.protocol && r.from <= packet.port && packet.port <= r.to,
    )?.index;
  const parts: string[] = [];
  const side = dir === "ingress" ? "from" : "to";
  if (o.peer !== undefined && peers?.[o.peer]) parts.push(`${side}[${o.peer}] ${peerText(peers[o.peer]!)}`);
  else parts.push(dir === "ingress" ? "from any source" : "to any destination");
  const port = hitPort !== undefined ? spec?.ports?.[hitPort] : undefined;
  if (port && hitPort !== undefined) parts.push(`ports[${hitPort}] ${portText(port, packet.port)}`);
  else parts.push("any port");
  return {
    policy: o.policy,
    index: o.rule,
    ...(o.peer !== undefined ? { peer: o.peer } : {}),
    ...(hitPort !== undefined ? { port: hitPort } : {}),
    text: `spec.${dir}[${o.rule}]: ${parts.join(", ")}`,
  };
}
