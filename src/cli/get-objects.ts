import type { Datastore } from "../datastore/datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import type { Resource } from "../model/resource.ts";
import type { ResourceKind } from "./resource-kind.ts";

export interface GetQuery {
  kind: ResourceKind;
  name?: string;
  /** For namespaced kinds: the namespace to look in; undefined with allNamespaces. */
  namespace?: string;
  allNamespaces?: boolean;
}

export interface GetResult {
  kind: ResourceKind;
  /** A single object was asked for by name (printed as the object, not a List). */
  single: boolean;
  allNamespaces: boolean;
  items: Resource[];
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
    return { kind: q.kind, single: true, allNamespaces: all, items: [obj] };
  }
  const { items } = await ds.list(q.kind.kind, ns);
  return { kind: q.kind, single: false, allNamespaces: all, items };
}
