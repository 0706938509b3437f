import type { FieldErrors } from "./field-errors.ts";
import { k8sSyntax } from "./k8s-syntax.ts";
import { readFields } from "./read-fields.ts";
import type { ObjectMeta } from "./resource.ts";

// Fields the API server sets or other controllers own: accepted (so the output of
// `kubectl get -o yaml` applies as is) but not kept; the datastore sets its own.
const IGNORED = [
  "uid",
  "creationTimestamp",
  "generation",
  "managedFields",
  "ownerReferences",
  "finalizers",
  "selfLink",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
];
const KEPT = ["name", "namespace", "labels", "annotations", "resourceVersion"];
/** Every key metadata may have (one array, not one per object validated). */
const KNOWN = [...KEPT, "generateName", ...IGNORED];

export interface MetaRules {
  /** Namespaced kinds get `defaultNamespace` when they have none; cluster-scoped ones must have none. */
  namespaced: boolean;
  /** Namespace names are DNS-1123 labels, Pod and NetworkPolicy names DNS-1123 subdomains. */
  name: (v: string) => string | undefined;
  defaultNamespace: string;
}

/** metadata: name, namespace (defaulted), labels and annotations (key and value syntax). */
export function validateObjectMeta(raw: unknown, rules: MetaRules, errs: FieldErrors): ObjectMeta {
  const o = readFields.object(raw ?? {}, "metadata", errs, KNOWN) ?? {};
  const meta: ObjectMeta = { name: "" };
  if (o.name === undefined && o.generateName !== undefined) {
    errs.add("metadata.name", "Required value (generateName is not supported: give the object a name)");
  } else {
    const name = readFields.string(o.name, "metadata.name", errs);
    if (name !== undefined) {
      errs.check("metadata.name", name, rules.name(name));
      meta.name = name;
    }
  }
  const ns = o.namespace === undefined || o.namespace === "" ? undefined : o.namespace;
  if (rules.namespaced) {
    const namespace =
      ns === undefined ? rules.defaultNamespace : readFields.string(ns, "metadata.namespace", errs);
    if (namespace !== undefined) {
      errs.check("metadata.namespace", namespace, k8sSyntax.dns1123Label(namespace));
      meta.namespace = namespace;
    }
  } else if (ns !== undefined) {
    errs.add("metadata.namespace", "not allowed on this kind (it is cluster-scoped)");
  }
  const labels = readFields.stringMap(o.labels, "metadata.labels", errs);
  if (labels) {
    for (const k of Object.keys(labels)) {
      const v = labels[k]!;
      errs.check("metadata.labels", k, k8sSyntax.labelKey(k));
      const bad = k8sSyntax.labelValue(v);
      if (bad !== undefined) errs.check(`metadata.labels[${k}]`, v, bad);
    }
    meta.labels = labels;
  }
  const annotations = readFields.stringMap(o.annotations, "metadata.annotations", errs);
  if (annotations) {
    for (const k of Object.keys(annotations)) errs.check("metadata.annotations", k, k8sSyntax.labelKey(k));
    meta.annotations = annotations;
  }
  if (o.resourceVersion !== undefined && o.resourceVersion !== "") {
    const rv = String(o.resourceVersion);
    if (/^[0-9]+$/.test(rv)) meta.resourceVersion = rv;
    else
      errs.add(
        "metadata.resourceVersion",
        `invalid value ${JSON.stringify(o.resourceVersion)}: must be a revision number`,
      );
  }
  return meta;
}
