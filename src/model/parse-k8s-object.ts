import { type BgpResource, isBgpKind } from "./bgp-resources.ts";
import { FieldErrors } from "./field-errors.ts";
import { InvalidObjectError } from "./invalid-object-error.ts";
import {
  K8S_API_VERSIONS,
  NAMESPACE_NAME_LABEL,
  type NamespaceResource,
  type NetworkPolicyResource,
  type PodResource,
} from "./k8s-resources.ts";
import { k8sSyntax } from "./k8s-syntax.ts";
import { readFields } from "./read-fields.ts";
import { type Resource, TARTAN_API_VERSION } from "./resource.ts";
import { validateBgpSpec } from "./validate-bgp-object.ts";
import { validateNetworkPolicySpec } from "./validate-network-policy-spec.ts";
import { validateObjectMeta } from "./validate-object-meta.ts";
import { validatePodSpec, validatePodStatus } from "./validate-pod.ts";

export type K8sObject = PodResource | NamespaceResource | NetworkPolicyResource | BgpResource;

export interface ParseK8sOptions {
  /** The namespace of a namespaced object that names none (kubectl's `-n`); default "default". */
  defaultNamespace?: string;
}

/**
 * A Pod, Namespace or NetworkPolicy as a user writes it for kubectl (already parsed from
 * YAML/JSON), validated and defaulted like the API server would: the result is what gets stored.
 * Throws InvalidObjectError listing every problem as `field.path: reason`. Pure.
 */
export function parseK8sObject(raw: unknown, options: ParseK8sOptions = {}): K8sObject {
  const errs = new FieldErrors();
  const o = readFields.object(raw, "", errs, ["apiVersion", "kind", "metadata", "spec", "status"]);
  if (!o) throw new InvalidObjectError("", errs.list);
  const kind = readFields.string(o.kind, "kind", errs);
  const expected = isBgpKind(kind)
    ? TARTAN_API_VERSION
    : kind !== undefined && Object.hasOwn(K8S_API_VERSIONS, kind)
      ? K8S_API_VERSIONS[kind]
      : undefined;
  if (kind !== undefined && expected === undefined) {
    errs.add(
      "kind",
      `unsupported kind ${JSON.stringify(kind)}: tartan stores ${[...Object.keys(K8S_API_VERSIONS), "BGPConfiguration", "BGPPeer"].join(", ")}`,
    );
  }
  if (expected === undefined) throw new InvalidObjectError("", errs.list);
  const apiVersion = readFields.string(o.apiVersion, "apiVersion", errs);
  if (apiVersion !== undefined && apiVersion !== expected) {
    errs.add("apiVersion", `${JSON.stringify(apiVersion)} is not served for ${kind}: use ${expected}`);
  }
  const metadata = validateObjectMeta(
    o.metadata,
    {
      namespaced: kind !== "Namespace" && !isBgpKind(kind),
      name: kind === "Namespace" ? k8sSyntax.dns1123Label : k8sSyntax.dns1123Subdomain,
      defaultNamespace: options.defaultNamespace ?? "default",
    },
    errs,
  );
  let obj: K8sObject;
  if (kind === "Namespace") {
    // The API server sets this label on every namespace and overwrites any other value, so a
    // namespaceSelector can always pick a namespace by name.
    metadata.labels = { ...metadata.labels, [NAMESPACE_NAME_LABEL]: metadata.name };
    const spec = readFields.object(o.spec ?? {}, "spec", errs, ["finalizers"]);
    if (spec?.finalizers !== undefined) readFields.list(spec.finalizers, "spec.finalizers", errs);
    obj = { apiVersion: expected, kind, metadata, spec: {} };
  } else if (kind === "Pod") {
    const pod: PodResource = { apiVersion: expected, kind, metadata, spec: validatePodSpec(o.spec, errs) };
    const status = validatePodStatus(o.status, errs);
    if (status) pod.status = status;
    obj = pod;
  } else if (isBgpKind(kind)) {
    // tartan's own cluster-scoped kinds (decision 0017); no status of their own.
    if (o.status !== undefined && o.status !== null && Object.keys(o.status).length > 0) {
      errs.add("status", `${kind} has no status`);
    }
    obj = {
      apiVersion: expected,
      kind,
      metadata,
      spec: validateBgpSpec(kind, metadata.name, o.spec, errs),
    } as BgpResource;
  } else {
    if (o.status !== undefined && o.status !== null && Object.keys(o.status).length > 0) {
      errs.add("status", "NetworkPolicy has no status");
    }
    obj = {
      apiVersion: expected,
      kind: "NetworkPolicy",
      metadata,
      spec: validateNetworkPolicySpec(o.spec, errs),
    };
  }
  if (errs.list.length > 0) throw new InvalidObjectError(describe(obj), errs.list);
  return obj;
}

function describe(r: Resource): string {
  const name = r.metadata.name || "(no name)";
  return `${r.kind} ${r.metadata.namespace ? `${r.metadata.namespace}/` : ""}${name}`;
}
