import type { BGPConfigurationResource, BGPPeerResource } from "../model/bgp-resources.ts";
import type { IPAMBlockResource, IPPoolResource, NodeResource } from "../model/cluster-resources.ts";
import type { NetworkPolicyResource, PodResource } from "../model/k8s-resources.ts";
import { latestTime } from "../model/latest-time.ts";
import type { Resource } from "../model/resource.ts";
import type { ApplyResult } from "./apply-objects.ts";
import type { DeleteResult } from "./delete-objects.ts";
import type { GetResult } from "./get-objects.ts";
import { formatTable } from "./report.ts";
import { resourceKind } from "./resource-kind.ts";

/** kubectl's AGE column: 45s, 12m, 3h, 5d. */
function age(ts: string | undefined, now: number): string {
  if (!ts) return "-";
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const labels = (r: Resource) =>
  Object.entries(r.metadata.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",") || "<none>";

function selector(
  s: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined,
): string {
  const parts = Object.entries(s?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of (s?.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[]) {
    if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === "In" ? "in" : "notin"} (${(e.values ?? []).join(",")})`);
  }
  return parts.join(",") || "<none>";
}

/** A Node's readiness as the cluster sees it: the reclaimer's condition, else the agent's own word. */
function nodeReady(n: NodeResource): string {
  const c = n.status?.conditions?.find((x) => x.type === "Ready");
  if (c) return c.status === "True" ? "Ready" : `NotReady (${c.reason})`;
  return n.status?.ready === false ? "NotReady" : n.status?.ready ? "Ready" : "Unknown";
}

/** kubectl's `-o name`: one `kind/name` per line (namespaced ones as kubectl prints them, no namespace). */
export function formatNames(r: GetResult): string {
  return r.items.map((x) => `${r.kind.prefix}/${x.metadata.name}\n`).join("");
}

/** The table of `tartan get`: kubectl's columns where they make sense without a kubelet. */
export function formatGetTable(r: GetResult, now = Date.now(), wide = false): string {
  if (r.items.length === 0) {
    return r.allNamespaces || !r.kind.namespaced
      ? "No resources found\n"
      : "No resources found in this namespace (all namespaces: -A)\n";
  }
  const nsCol = r.allNamespaces ? ["NAMESPACE"] : [];
  const ns = (x: Resource) => (r.allNamespaces ? [x.metadata.namespace ?? ""] : []);
  const items = r.items;
  switch (r.kind.kind) {
    case "Pod":
      return formatTable(
        [...nsCol, "NAME", "NODE", "IPS", "LABELS", "AGE"],
        items.map((x) => {
          const p = x as PodResource;
          const ips = (p.status?.podIPs ?? []).map((i) => i.ip).join(",") || "<none>";
          return [
            ...ns(p),
            p.metadata.name,
            p.spec.nodeName ?? "<none>",
            ips,
            labels(p),
            age(p.metadata.creationTimestamp, now),
          ];
        }),
      );
    case "Namespace":
      return formatTable(
        ["NAME", "LABELS", "AGE"],
        items.map((x) => [x.metadata.name, labels(x), age(x.metadata.creationTimestamp, now)]),
      );
    case "NetworkPolicy":
      return formatTable(
        [...nsCol, "NAME", "POD-SELECTOR", "POLICY-TYPES", "AGE"],
        items.map((x) => {
          const p = x as NetworkPolicyResource;
          return [
            ...ns(p),
            p.metadata.name,
            selector(p.spec.podSelector),
            (p.spec.policyTypes ?? []).join(","),
            age(p.metadata.creationTimestamp, now),
          ];
        }),
      );
    case "Node":
      return formatTable(
        ["NAME", "STATUS", "UNDERLAY", "HEARTBEAT", ...(wide ? ["SUBNET", "VTEP-MAC", "LABELS"] : []), "AGE"],
        items.map((x) => {
          const n = x as NodeResource;
          return [
            n.metadata.name,
            nodeReady(n),
            n.spec.underlayAddress,
            ((hb) => (hb ? `${age(hb, now)} ago` : "-"))(
              latestTime(r.heartbeats?.get(n.metadata.name), n.status?.heartbeat),
            ),
            ...(wide ? [n.spec.underlaySubnet, n.spec.vtepMac ?? "-", labels(n)] : []),
            age(n.metadata.creationTimestamp, now),
          ];
        }),
      );
    case "IPPool":
      return formatTable(
        ["NAME", "CIDR", "BLOCK-SIZE", "NAT-OUTGOING", ...(wide ? ["LABELS"] : []), "AGE"],
        items.map((x) => {
          const p = x as IPPoolResource;
          return [
            p.metadata.name,
            p.spec.cidr,
            String(p.spec.blockSize),
            String(p.spec.natOutgoing === true),
            ...(wide ? [labels(p)] : []),
            age(p.metadata.creationTimestamp, now),
          ];
        }),
      );
    case "IPAMBlock":
      return formatTable(
        ["NAME", "CIDR", "NODE", ...(wide ? ["POOL", "LABELS"] : []), "AGE"],
        items.map((x) => {
          const b = x as IPAMBlockResource;
          return [
            b.metadata.name,
            b.spec.cidr,
            b.spec.node,
            ...(wide ? [b.spec.pool, labels(b)] : []),
            age(b.metadata.creationTimestamp, now),
          ];
        }),
      );
    case "BGPConfiguration":
      return formatTable(
        ["NAME", "AS", "MESH", "PORT", "AGE"],
        items.map((x) => {
          const c = (x as BGPConfigurationResource).spec;
          return [
            x.metadata.name,
            String(c.asNumber ?? 64512),
            String(c.nodeToNodeMeshEnabled ?? true),
            String(c.listenPort ?? 179),
            age(x.metadata.creationTimestamp, now),
          ];
        }),
      );
    case "BGPPeer":
      return formatTable(
        ["NAME", "NODES", "PEER", "AS", "AGE"],
        items.map((x) => {
          const p = (x as BGPPeerResource).spec;
          return [
            x.metadata.name,
            p.node ?? (p.nodeSelector ? selector(p.nodeSelector) : "(all)"),
            p.peerIP ?? `nodes: ${selector(p.peerSelector)}`,
            p.asNumber === undefined ? "(node's)" : String(p.asNumber),
            age(x.metadata.creationTimestamp, now),
          ];
        }),
      );
  }
}

/** kubectl's apply/delete lines: `pod/web created`, `namespace/prod created (for pod/web)`. */
export function formatChangeLines(results: readonly (ApplyResult | DeleteResult)[]): string {
  return results
    .map((r) => {
      const ns = r.namespace ? ` -n ${r.namespace}` : "";
      const why =
        "implicitFor" in r && r.implicitFor
          ? ` (for ${r.implicitFor})`
          : "withNamespace" in r && r.withNamespace
            ? ` (with namespace ${r.withNamespace})`
            : "";
      return `${resourceKind(r.kind).prefix}/${r.name}${ns} ${r.action}${why}\n`;
    })
    .join("");
}
