import { readHeartbeats } from "../agent/node-heartbeat.ts";
import type { Datastore, WatchEvent } from "../datastore/datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { KINDS } from "../model/cluster-resources.ts";
import type { LabelSelector } from "../model/k8s-resources.ts";
import { selectorMatches } from "../model/label-selector.ts";
import type { Resource } from "../model/resource.ts";
import type { ResourceKind } from "./resource-kind.ts";

export interface GetQuery {
  kind: ResourceKind;
  name?: string;
  /** For namespaced kinds: the namespace to look in; undefined with allNamespaces. */
  namespace?: string;
  allNamespaces?: boolean;
  /** `-l`: only objects whose labels match. */
  selector?: LabelSelector;
  /** Nodes shown as a table: also read the heartbeat leases (json, yaml and name do not show them). */
  heartbeats?: boolean;
}

export interface GetResult {
  kind: ResourceKind;
  /** A single object was asked for by name (printed as the object, not a List). */
  single: boolean;
  allNamespaces: boolean;
  items: Resource[];
  /** The list's revision: `--watch` goes on from here, missing nothing. */
  revision?: string;
  /** Nodes: each node's last heartbeat lease renewal (node-heartbeat.ts), for the table. */
  heartbeats?: ReadonlyMap<string, string>;
}

/**
 * For a Node table: the heartbeat leases' renewal times by node. None when not asked for or
 * when they cannot be read (the table then shows the Nodes' own heartbeats).
 */
async function withHeartbeats(ds: Datastore, q: GetQuery, r: GetResult): Promise<GetResult> {
  if (!q.heartbeats || q.kind.kind !== KINDS.node) return r;
  const beats = await readHeartbeats(ds).catch(() => undefined);
  return beats ? { ...r, heartbeats: new Map([...beats].map(([n, b]) => [n, b.renewTime])) } : r;
}

/** `tartan get KIND [NAME] [-n NS | -A]`: the stored objects, in store order (namespace, name). */
export async function getObjects(ds: Datastore, q: GetQuery): Promise<GetResult> {
  const ns = q.kind.namespaced && !q.allNamespaces ? (q.namespace ?? "default") : undefined;
  const all = q.kind.namespaced && !!q.allNamespaces;
  if (q.name !== undefined) {
    const obj = await ds.get(q.kind.kind, q.name, ns);
    if (!obj) {
      throw new TartanError(
        "not-found",
        `${q.kind.prefix} "${q.name}" not found${ns ? ` in namespace ${ns}` : ""}`,
        q.kind.namespaced ? "list them: tartan get KIND -A" : "list them: tartan get KIND",
      );
    }
    return withHeartbeats(ds, q, { kind: q.kind, single: true, allNamespaces: all, items: [obj] });
  }
  const { items, revision } = await ds.list(q.kind.kind, ns);
  const kept = q.selector ? items.filter((o) => selectorMatches(q.selector!, o.metadata.labels)) : items;
  return withHeartbeats(ds, q, { kind: q.kind, single: false, allNamespaces: all, items: kept, revision });
}

/**
 * `get --watch`: every change after the listing's revision to the objects the query selects, until `signal`
 * aborts (or the datastore fails: then it rejects). An object that stops matching the selector
 * is reported as DELETED, the way the Kubernetes API reports it to a selecting watch.
 */
export function watchObjects(
  ds: Datastore,
  q: GetQuery,
  listed: GetResult,
  onEvent: (e: WatchEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const ns = q.kind.namespaced && !q.allNamespaces ? (q.namespace ?? "default") : undefined;
  const key = (o: Resource) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
  const seen = new Set(listed.items.map(key));
  const revision = listed.revision ?? "0";
  const selects = (o: Resource) =>
    (ns === undefined || o.metadata.namespace === ns) &&
    (q.name === undefined || o.metadata.name === q.name) &&
    (!q.selector || selectorMatches(q.selector, o.metadata.labels));
  return new Promise((resolve, reject) => {
    const handle = ds.watch(
      q.kind.kind,
      revision,
      (e) => {
        const k = key(e.object);
        if (e.type !== "DELETED" && selects(e.object)) {
          onEvent(e);
          seen.add(k);
        } else if (e.type === "DELETED" ? selects(e.object) || seen.has(k) : seen.has(k)) {
          onEvent({ ...e, type: "DELETED" });
          seen.delete(k);
        }
      },
      (err) => {
        handle.close();
        reject(err);
      },
    );
    const stop = () => {
      handle.close();
      resolve();
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });
}
