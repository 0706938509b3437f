import type { Datastore } from "../datastore/datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import type { K8sObject } from "../model/parse-k8s-object.ts";
import type { Resource } from "../model/resource.ts";
import { resourceKind } from "./resource-kind.ts";

export interface ApplyResult {
  kind: string;
  namespace?: string;
  name: string;
  action: "created" | "configured" | "unchanged";
  /** Set for a Namespace created because an object in the input lives in it. */
  implicitFor?: string;
}

const MAX_ATTEMPTS = 10;

/**
 * `tartan apply`: create or update each (already validated) object, compare-and-swap with the
 * stored resourceVersion and re-read on conflict, so two writers never lose each other's change.
 * Namespaces go first, and a namespace that objects live in but that has no Namespace object
 * gets one, as kubectl users expect when they write `namespace: prod`. An object whose stored
 * form already equals the input is not written at all: watchers see no event for a re-apply.
 */
export async function applyObjects(ds: Datastore, objects: readonly K8sObject[]): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  const namespaces = objects.filter((o) => o.kind === "Namespace");
  for (const o of namespaces) results.push(await applyOne(ds, o));
  const known = new Set(namespaces.map((n) => n.metadata.name));
  for (const o of objects) {
    if (o.kind === "Namespace") continue;
    const ns = o.metadata.namespace ?? "default";
    if (!resourceKind(o.kind).namespaced) {
      results.push(await applyOne(ds, o)); // cluster scoped (BGPConfiguration, BGPPeer)
      continue;
    }
    if (!known.has(ns)) {
      known.add(ns);
      const created = await ensureNamespace(ds, ns);
      if (created)
        results.push({ ...created, implicitFor: `${resourceKind(o.kind).prefix}/${o.metadata.name}` });
    }
    results.push(await applyOne(ds, o));
  }
  return results;
}

async function ensureNamespace(ds: Datastore, name: string): Promise<ApplyResult | undefined> {
  if (await ds.get("Namespace", name)) return undefined;
  try {
    await ds.create({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
      spec: {},
    });
  } catch (e) {
    if (e instanceof TartanError && e.code === "datastore-conflict") return undefined; // someone else made it
    throw e;
  }
  return { kind: "Namespace", name, action: "created" };
}

async function applyOne(ds: Datastore, obj: K8sObject): Promise<ApplyResult> {
  const { kind } = obj;
  const { name, namespace } = obj.metadata;
  const result = (action: ApplyResult["action"]): ApplyResult => ({
    kind,
    ...(namespace ? { namespace } : {}),
    name,
    action,
  });
  // A resourceVersion in the input is the user's precondition (as with kubectl): no retry then.
  const precondition = obj.metadata.resourceVersion;
  for (let attempt = 1; ; attempt++) {
    const stored = await ds.get(kind, name, namespace);
    if (precondition !== undefined && stored?.metadata.resourceVersion !== precondition) {
      throw new TartanError(
        "datastore-conflict",
        `${kind} ${namespace ? `${namespace}/` : ""}${name}: the input has resourceVersion ${precondition}, the stored object ${stored ? `has ${stored.metadata.resourceVersion}` : "does not exist"}`,
        "someone changed it since you read it: drop metadata.resourceVersion to overwrite, or read it again",
      );
    }
    try {
      if (!stored) {
        const { resourceVersion: _rv, ...metadata } = obj.metadata;
        await ds.create({ ...obj, metadata });
        return result("created");
      }
      const next = merged(stored, obj);
      if (sameContent(stored, next)) return result("unchanged");
      await ds.update(next);
      return result("configured");
    } catch (e) {
      const retry =
        e instanceof TartanError &&
        (e.code === "datastore-conflict" || e.code === "datastore-not-found") &&
        precondition === undefined &&
        attempt < MAX_ATTEMPTS;
      if (!retry) throw e;
    }
  }
}

/**
 * The input replaces labels, annotations and spec; identity (uid, creation time) stays; the
 * status stays unless the input has one: it belongs to whoever reports it (the agent), and a
 * re-apply of the user's YAML must not wipe pod IPs.
 */
function merged(stored: Resource, obj: K8sObject): Resource {
  const next: Resource = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      ...obj.metadata,
      uid: stored.metadata.uid,
      creationTimestamp: stored.metadata.creationTimestamp,
      resourceVersion: stored.metadata.resourceVersion,
    },
    spec: obj.spec,
  };
  const status = "status" in obj && obj.status !== undefined ? obj.status : stored.status;
  if (status !== undefined) next.status = status;
  for (const k of ["uid", "creationTimestamp"] as const)
    if (next.metadata[k] === undefined) delete next.metadata[k];
  return next;
}

function sameContent(a: Resource, b: Resource): boolean {
  const view = (r: Resource) => ({
    apiVersion: r.apiVersion,
    labels: r.metadata.labels ?? {},
    annotations: r.metadata.annotations ?? {},
    spec: r.spec,
    status: r.status,
  });
  return Bun.deepEquals(view(a), view(b));
}
