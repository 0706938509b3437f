import type { Datastore } from "../datastore/datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import type { K8sObject } from "../model/parse-k8s-object.ts";

export interface DeleteResult {
  kind: string;
  namespace?: string;
  name: string;
  action: "deleted" | "not found";
  /** Set when the object went with its Namespace. */
  withNamespace?: string;
}

// What lives in a namespace and goes with it (the API server's namespace controller does the same).
const NAMESPACED_KINDS = ["NetworkPolicy", "Pod"];

/**
 * `tartan delete`: namespaced objects first, then Namespaces, each taking the Pods and
 * NetworkPolicies still in it along: objects in a namespace that no longer exists would keep
 * matching selectors without the namespace labels a namespaceSelector needs.
 */
export async function deleteObjects(ds: Datastore, objects: readonly K8sObject[]): Promise<DeleteResult[]> {
  const results: DeleteResult[] = [];
  const ordered = [
    ...objects.filter((o) => o.kind !== "Namespace"),
    ...objects.filter((o) => o.kind === "Namespace"),
  ];
  for (const o of ordered) {
    if (o.kind === "Namespace") {
      for (const kind of NAMESPACED_KINDS) {
        for (const item of (await ds.list(kind, o.metadata.name)).items) {
          const r = await deleteOne(ds, kind, item.metadata.name, o.metadata.name);
          if (r.action === "deleted") results.push({ ...r, withNamespace: o.metadata.name });
        }
      }
    }
    results.push(await deleteOne(ds, o.kind, o.metadata.name, o.metadata.namespace));
  }
  return results;
}

async function deleteOne(
  ds: Datastore,
  kind: string,
  name: string,
  namespace?: string,
): Promise<DeleteResult> {
  const r = { kind, ...(namespace ? { namespace } : {}), name };
  try {
    await ds.delete(kind, name, namespace);
    return { ...r, action: "deleted" };
  } catch (e) {
    if (e instanceof TartanError && e.code === "datastore-not-found") return { ...r, action: "not found" };
    throw e;
  }
}
