import type { Datastore } from "../datastore/datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { InvalidObjectError } from "../model/invalid-object-error.ts";
import { NAMESPACE_NAME_LABEL } from "../model/k8s-resources.ts";
import { parseK8sObject } from "../model/parse-k8s-object.ts";
import type { Resource } from "../model/resource.ts";
import type { ResourceKind } from "./resource-kind.ts";

/** `key=value` sets, `key-` removes (kubectl label's syntax). */
export type LabelChange = { key: string; value: string } | { key: string; remove: true };

export function parseLabelChange(text: string): LabelChange {
  if (text.endsWith("-") && !text.includes("=")) return { key: text.slice(0, -1), remove: true };
  const eq = text.indexOf("=");
  if (eq <= 0) {
    throw new TartanError(
      "cli-usage",
      `"${text}" is neither key=value nor key-`,
      "e.g. app=web to set, app- to remove",
    );
  }
  return { key: text.slice(0, eq), value: text.slice(eq + 1) };
}

export interface LabelResult {
  object: Resource;
  changed: boolean;
}

/**
 * `tartan label KIND NAME k=v k-`: changes the labels of a stored object with compare-and-swap,
 * re-reading on conflict (an agent may be writing the pod's status at the same moment). The
 * result is validated like any input, so a bad key or value never reaches the store.
 */
export async function labelObject(
  ds: Datastore,
  kind: ResourceKind,
  name: string,
  namespace: string | undefined,
  changes: readonly LabelChange[],
): Promise<LabelResult> {
  const ns = kind.namespaced ? (namespace ?? "default") : undefined;
  if (kind.kind === "Namespace" && changes.some((c) => c.key === NAMESPACE_NAME_LABEL)) {
    throw new TartanError(
      "object-invalid",
      `${NAMESPACE_NAME_LABEL} is set from the namespace's name and cannot be changed`,
      "select a namespace by name through this label; choose another key for your own labels",
    );
  }
  for (let attempt = 1; ; attempt++) {
    const stored = await ds.get(kind.kind, name, ns);
    if (!stored) {
      throw new TartanError(
        "not-found",
        `${kind.prefix} "${name}" not found${ns ? ` in namespace ${ns}` : ""}`,
      );
    }
    const labels = { ...stored.metadata.labels };
    for (const c of changes) {
      if ("remove" in c) delete labels[c.key];
      else labels[c.key] = c.value;
    }
    if (Bun.deepEquals(labels, stored.metadata.labels ?? {})) return { object: stored, changed: false };
    const next: Resource = { ...stored, metadata: { ...stored.metadata, labels } };
    try {
      parseK8sObject(next);
    } catch (e) {
      if (e instanceof InvalidObjectError) {
        throw new TartanError("object-invalid", e.message, "nothing was written");
      }
      throw e;
    }
    try {
      return { object: await ds.update(next), changed: true };
    } catch (e) {
      if (!(e instanceof TartanError && e.code === "datastore-conflict" && attempt < 10)) throw e;
    }
  }
}
