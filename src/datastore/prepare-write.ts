import type { Resource } from "../model/resource.ts";
import { datastoreError } from "./datastore-error.ts";
import { validateResource } from "./validate-resource.ts";

/**
 * What every adapter does to an object before storing it: validate, copy (the caller's object is
 * never kept or changed), drop an empty namespace (cluster-scoped), and for a create fill in uid
 * and creationTimestamp. An update must carry the resourceVersion it read: the port only offers
 * compare-and-swap writes, so a lost update cannot happen by omission.
 */
export function prepareWrite(obj: Resource, mode: "create" | "update"): Resource {
  const out = structuredClone(validateResource(obj));
  if (!out.metadata.namespace) delete out.metadata.namespace;
  if (mode === "create") {
    delete out.metadata.resourceVersion;
    out.metadata.uid ??= crypto.randomUUID();
    out.metadata.creationTimestamp ??= new Date().toISOString();
  } else if (out.metadata.resourceVersion === undefined) {
    throw datastoreError(
      "datastore-invalid",
      `${out.kind}/${out.metadata.name}: update needs metadata.resourceVersion (compare-and-swap)`,
    );
  }
  return out;
}
