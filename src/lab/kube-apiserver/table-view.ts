import type { ApiResource } from "./api-resource.ts";
import type { KubeObject } from "./object-store.ts";

interface Column {
  name: string;
  type: string;
  format?: string;
  /** 0: always shown; 1: with -o wide. */
  priority: number;
  cell: (o: KubeObject) => string | number;
}

type Any = Record<string, unknown> & { [k: string]: Any | undefined };
const at = (o: KubeObject, ...path: string[]): unknown =>
  path.reduce<unknown>((cur, k) => (cur && typeof cur === "object" ? (cur as Any)[k] : undefined), o);

/** kubectl's short ages: 42s, 3m7s, 25m, 5h, 3d. */
export function age(created: string | undefined, now = Date.now()): string {
  if (!created) return "<unknown>";
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 3) return `${m}m`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const NAME: Column = {
  name: "Name",
  type: "string",
  format: "name",
  priority: 0,
  cell: (o) => o.metadata.name,
};
const AGE: Column = {
  name: "Age",
  type: "string",
  priority: 0,
  cell: (o) => age(o.metadata.creationTimestamp),
};

function podColumns(): Column[] {
  const containers = (o: KubeObject) => ((at(o, "spec", "containers") as unknown[]) ?? []).length;
  const phase = (o: KubeObject) => String(at(o, "status", "phase") ?? "Pending");
  return [
    NAME,
    {
      name: "Ready",
      type: "string",
      priority: 0,
      cell: (o) => `${phase(o) === "Running" ? containers(o) : 0}/${containers(o)}`,
    },
    {
      name: "Status",
      type: "string",
      priority: 0,
      cell: (o) => (o.metadata.deletionTimestamp ? "Terminating" : phase(o)),
    },
    { name: "Restarts", type: "integer", priority: 0, cell: () => 0 },
    AGE,
    { name: "IP", type: "string", priority: 1, cell: (o) => String(at(o, "status", "podIP") ?? "<none>") },
    { name: "Node", type: "string", priority: 1, cell: (o) => String(at(o, "spec", "nodeName") ?? "<none>") },
  ];
}

function nodeColumns(): Column[] {
  const ready = (o: KubeObject) => {
    const c = ((at(o, "status", "conditions") as { type: string; status: string }[]) ?? []).find(
      (x) => x.type === "Ready",
    );
    return c ? (c.status === "True" ? "Ready" : "NotReady") : "Unknown";
  };
  const address = (o: KubeObject) =>
    ((at(o, "status", "addresses") as { type: string; address: string }[]) ?? []).find(
      (a) => a.type === "InternalIP",
    )?.address ??
    o.metadata.annotations?.["tartan.dev/underlay-address"] ??
    "<none>";
  return [
    NAME,
    { name: "Status", type: "string", priority: 0, cell: ready },
    AGE,
    { name: "Internal-IP", type: "string", priority: 1, cell: address },
  ];
}

function selectorText(sel: unknown): string {
  const labels = (sel as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
  const exprs = (sel as { matchExpressions?: unknown[] } | undefined)?.matchExpressions ?? [];
  const text = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  if (exprs.length) text.push(`${exprs.length} expression(s)`);
  return text.length ? text.join(",") : "<none>";
}

function columnsOf(r: ApiResource): Column[] {
  if (r.group === "" && r.resource === "pods") return podColumns();
  if (r.group === "" && r.resource === "nodes") return nodeColumns();
  if (r.group === "" && r.resource === "namespaces") {
    return [
      NAME,
      {
        name: "Status",
        type: "string",
        priority: 0,
        cell: (o) => String(at(o, "status", "phase") ?? "Active"),
      },
      AGE,
    ];
  }
  if (r.resource === "networkpolicies") {
    return [
      NAME,
      {
        name: "Pod-Selector",
        type: "string",
        priority: 0,
        cell: (o) => selectorText(at(o, "spec", "podSelector")),
      },
      AGE,
    ];
  }
  return [NAME, AGE];
}

/**
 * The `meta.k8s.io/v1` Table kubectl asks for (`Accept: …;as=Table`): the columns kubectl users
 * know for Pods (READY, STATUS, RESTARTS, AGE, and IP, NODE with -o wide), Nodes, Namespaces and
 * NetworkPolicies; NAME and AGE for everything else. Rows carry the object's metadata
 * (PartialObjectMetadata), which kubectl uses for --show-labels and the NAMESPACE column.
 */
export function tableOf(r: ApiResource, items: KubeObject[], listMeta: Record<string, unknown>): object {
  const cols = columnsOf(r);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? "",
      description: "",
      priority: c.priority,
    })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}

/** Whether the request asks for a Table (kubectl's `get` does; `-o json|yaml` does not). */
export const wantsTable = (accept: string | undefined): boolean =>
  /as=Table/.test(accept ?? "") && /g=meta\.k8s\.io/.test(accept ?? "");
