import type { Resource } from "../model/resource.ts";
import { datastoreError } from "./datastore-error.ts";

// Kubernetes' own rules: kinds are CamelCase identifiers, names DNS-1123 subdomains, namespaces
// DNS-1123 labels. Holding to them keeps every object storable in the Kubernetes API unchanged
// and keeps "/" out of names, so store keys cannot be forged.
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function checkKind(kind: string): void {
  if (!KIND.test(kind)) throw datastoreError("datastore-invalid", `invalid kind ${JSON.stringify(kind)}`);
}

export function checkName(name: string, namespace?: string): void {
  if (!NAME.test(name)) throw datastoreError("datastore-invalid", `invalid name ${JSON.stringify(name)}`);
  if (namespace !== undefined && !NAMESPACE.test(namespace)) {
    throw datastoreError("datastore-invalid", `invalid namespace ${JSON.stringify(namespace)}`);
  }
}

/** Throws datastore-invalid unless obj is a well-formed resource; returns it typed. */
export function validateResource(obj: unknown): Resource {
  const o = obj as Partial<Resource> | null;
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw datastoreError("datastore-invalid", "an object is required");
  }
  if (typeof o.apiVersion !== "string" || o.apiVersion === "") {
    throw datastoreError("datastore-invalid", "apiVersion is required");
  }
  if (typeof o.kind !== "string") throw datastoreError("datastore-invalid", "kind is required");
  checkKind(o.kind);
  const m = o.metadata;
  if (typeof m !== "object" || m === null || typeof m.name !== "string") {
    throw datastoreError("datastore-invalid", `${o.kind}: metadata.name is required`);
  }
  if (m.namespace !== undefined && typeof m.namespace !== "string") {
    throw datastoreError("datastore-invalid", `${o.kind}/${m.name}: metadata.namespace must be a string`);
  }
  checkName(m.name, m.namespace || undefined);
  if (m.resourceVersion !== undefined && !/^[0-9]+$/.test(String(m.resourceVersion))) {
    throw datastoreError(
      "datastore-invalid",
      `${o.kind}/${m.name}: resourceVersion must be a revision number`,
    );
  }
  if (o.spec === undefined)
    throw datastoreError("datastore-invalid", `${o.kind}/${m.name}: spec is required`);
  return o as Resource;
}
