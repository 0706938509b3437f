import { randomUUID } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { ApiError } from "./api-error.ts";
import { type ApiResource, CRD_RESOURCE, groupVersion } from "./api-resource.ts";
import { jsonPatch } from "./json-patch.ts";
import { mergePatch } from "./merge-patch.ts";
import type { KubeObject, ObjectStore } from "./object-store.ts";
import type { CrdObject, ResourceRegistry } from "./resource-registry.ts";
import { strategicMergePatch } from "./strategic-merge-patch.ts";

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const PATCH_TYPES = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
} as const;
export type PatchType = (typeof PATCH_TYPES)[keyof typeof PATCH_TYPES];

export function patchTypeOf(contentType: string | undefined): PatchType {
  const t = PATCH_TYPES[(contentType ?? "").split(";")[0]!.trim() as keyof typeof PATCH_TYPES];
  if (!t)
    throw new ApiError(
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${Object.keys(PATCH_TYPES).join(", ")}`,
    );
  return t;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The object without what the server owns, to tell a real change from a no-op write. */
function content(o: KubeObject, withStatus: boolean): string {
  const { metadata, status, ...rest } = o;
  const { resourceVersion: _, managedFields: __, ...meta } = metadata;
  return JSON.stringify(withStatus ? { rest, meta, status } : rest);
}

/**
 * create / update / patch / delete with kube-apiserver's object rules, over the ObjectStore:
 * server-set uid, creationTimestamp and generation (bumped on spec changes only); status
 * subresources (the main endpoint keeps `.status`, `/status` changes only it); a resourceVersion
 * in the body makes a write conditional (409 Conflict), and custom resources must carry one on
 * PUT; finalizers delay a delete (deletionTimestamp) until they are removed; deleting a Namespace
 * deletes its objects and deleting a CRD its custom resources. No admission, defaulting or schema
 * validation (README.md).
 */
export class ResourceVerbs {
  constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
    private readonly onCrdChange: () => void = () => {},
  ) {}

  private checkBody(r: ApiResource, body: unknown, namespace: string | undefined): KubeObject {
    if (!isObject(body)) throw new ApiError("BadRequest", "the request body is not a JSON object");
    const o = structuredClone(body) as KubeObject;
    if (o.kind !== undefined && o.kind !== r.kind) {
      throw new ApiError("BadRequest", `the kind "${o.kind}" does not match the endpoint's kind "${r.kind}"`);
    }
    const gv = groupVersion(r);
    if (
      o.apiVersion !== undefined &&
      o.apiVersion !== gv &&
      !(r.custom && String(o.apiVersion).startsWith(`${r.group}/`))
    ) {
      throw new ApiError(
        "BadRequest",
        `the API version in the data (${o.apiVersion}) does not match the expected API version (${gv})`,
      );
    }
    o.apiVersion = gv;
    o.kind = r.kind;
    if (!isObject(o.metadata)) o.metadata = { name: "" };
    if (r.namespaced) {
      if (o.metadata.namespace && namespace && o.metadata.namespace !== namespace) {
        throw new ApiError(
          "BadRequest",
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      o.metadata.namespace = namespace ?? o.metadata.namespace;
      if (!o.metadata.namespace) throw new ApiError("BadRequest", "a namespaced object needs a namespace");
    } else delete o.metadata.namespace;
    return o;
  }

  private invalid(r: ApiResource, name: string, field: string, message: string): ApiError {
    return new ApiError("Invalid", `${r.kind} "${name}" is invalid: ${field}: ${message}`, {
      name,
      group: r.group,
      kind: r.kind,
      causes: [{ reason: "FieldValueInvalid", message, field }],
    });
  }

  async create(r: ApiResource, namespace: string | undefined, body: unknown): Promise<KubeObject> {
    const o = this.checkBody(r, body, namespace);
    const m = o.metadata;
    if (!m.name && m.generateName) m.name = `${m.generateName}${randomUUID().replace(/-/g, "").slice(0, 5)}`;
    if (!m.name)
      throw this.invalid(r, "", "metadata.name", "Required value: name or generateName is required");
    if (!NAME_RE.test(m.name) || m.name.length > 253) {
      throw this.invalid(
        r,
        m.name,
        "metadata.name",
        `Invalid value: "${m.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
      );
    }
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    m.uid = randomUUID();
    m.creationTimestamp = now();
    m.generation = 1;
    this.prepareForCreate(r, o);
    const created = await this.store.create(r, o);
    if (r === CRD_RESOURCE) {
      this.registry.setCrd(created as unknown as CrdObject);
      this.onCrdChange();
    }
    return created;
  }

  /** What kube-apiserver's registry strategies set on create (status resets, namespace label, CRD status). */
  private prepareForCreate(r: ApiResource, o: KubeObject): void {
    if (r.custom && r.status) delete o.status;
    if (r.group === "" && r.resource === "pods") o.status = { phase: "Pending", qosClass: "BestEffort" };
    if (r.group === "" && r.resource === "namespaces") {
      o.metadata.labels = { ...o.metadata.labels, "kubernetes.io/metadata.name": o.metadata.name };
      o.status = { phase: "Active" };
    }
    if (r === CRD_RESOURCE) this.prepareCrd(o);
  }

  private prepareCrd(o: KubeObject): void {
    const spec = o.spec as CrdObject["spec"] | undefined;
    const name = o.metadata.name;
    if (
      !spec?.group ||
      !spec.names?.plural ||
      !spec.names?.kind ||
      !Array.isArray(spec.versions) ||
      spec.versions.length === 0
    ) {
      throw this.invalid(
        CRD_RESOURCE,
        name,
        "spec",
        "Required value: group, names.plural, names.kind and versions are required",
      );
    }
    if (name !== `${spec.names.plural}.${spec.group}`) {
      throw this.invalid(
        CRD_RESOURCE,
        name,
        "metadata.name",
        `Invalid value: "${name}": must be spec.names.plural+"."+spec.group`,
      );
    }
    if (spec.scope !== "Namespaced" && spec.scope !== "Cluster") {
      throw this.invalid(
        CRD_RESOURCE,
        name,
        "spec.scope",
        `Unsupported value: "${spec.scope}": supported values: "Cluster", "Namespaced"`,
      );
    }
    const t = now();
    o.status = {
      conditions: [
        {
          type: "NamesAccepted",
          status: "True",
          lastTransitionTime: t,
          reason: "NoConflicts",
          message: "no conflicts found",
        },
        {
          type: "Established",
          status: "True",
          lastTransitionTime: t,
          reason: "InitialNamesAccepted",
          message: "the initial names have been accepted",
        },
      ],
      acceptedNames: {
        ...spec.names,
        singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
        listKind: `${spec.names.kind}List`,
      },
      storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
    };
  }

  /** The object a write would store: server-owned metadata kept, status or spec per endpoint. */
  private prepareForUpdate(
    r: ApiResource,
    cur: KubeObject,
    next: KubeObject,
    sub: string | undefined,
  ): KubeObject {
    let out: KubeObject;
    if (sub === "status") {
      out = { ...structuredClone(cur), status: next.status };
      // Node agents publish annotations and labels through nodes/status (Flannel, Calico do).
      if (r.group === "" && r.resource === "nodes") {
        out.metadata.labels = next.metadata.labels;
        out.metadata.annotations = next.metadata.annotations;
      }
    } else {
      out = structuredClone(next);
      if (r.status) {
        if (cur.status === undefined) delete out.status;
        else out.status = structuredClone(cur.status);
      }
    }
    const m = out.metadata;
    for (const k of [
      "name",
      "namespace",
      "uid",
      "creationTimestamp",
      "deletionTimestamp",
      "generation",
    ] as const) {
      if (cur.metadata[k] === undefined) delete m[k];
      else (m as Record<string, unknown>)[k] = cur.metadata[k];
    }
    if (r.group === "" && r.resource === "namespaces") {
      m.labels = { ...m.labels, "kubernetes.io/metadata.name": m.name };
    }
    if (r === CRD_RESOURCE && sub !== "status") this.prepareCrd(out);
    if (sub !== "status" && content(out, false) !== content(cur, false))
      m.generation = (cur.metadata.generation ?? 0) + 1;
    m.resourceVersion = cur.metadata.resourceVersion;
    return out;
  }

  private async write(r: ApiResource, cur: KubeObject, next: KubeObject): Promise<KubeObject> {
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length) {
      await this.store.delete(r, cur, cur.metadata.resourceVersion!);
      await this.afterDelete(r, cur);
      return next;
    }
    if (content(next, true) === content(cur, true)) return cur; // a no-op write keeps the version
    const saved = await this.store.update(r, next, cur.metadata.resourceVersion!);
    if (r === CRD_RESOURCE) {
      this.registry.setCrd(saved as unknown as CrdObject);
      this.onCrdChange();
    }
    return saved;
  }

  async update(
    r: ApiResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    sub?: string,
  ): Promise<KubeObject> {
    const o = this.checkBody(r, body, namespace);
    if (o.metadata.name && o.metadata.name !== name) {
      throw new ApiError(
        "BadRequest",
        `the name of the object (${o.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    o.metadata.name = name;
    const rv = o.metadata.resourceVersion;
    if (!rv && r.custom) {
      throw this.invalid(
        r,
        name,
        "metadata.resourceVersion",
        "Invalid value: 0x0: must be specified for an update",
      );
    }
    const cur = await this.store.get(r, namespace, name);
    if (rv && rv !== cur.metadata.resourceVersion) {
      throw this.store.conflict(r, name, true);
    }
    return await this.write(r, cur, this.prepareForUpdate(r, cur, o, sub));
  }

  async patch(
    r: ApiResource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    raw: string,
    sub?: string,
  ): Promise<KubeObject> {
    if (type === "strategic" && r.custom) {
      throw new ApiError(
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
      );
    }
    let patch: unknown;
    try {
      patch = type === "apply" ? parseYaml(raw) : JSON.parse(raw);
    } catch (e) {
      throw new ApiError("BadRequest", `the patch does not parse: ${(e as Error).message}`);
    }
    for (let attempt = 0; ; attempt++) {
      let cur: KubeObject;
      try {
        cur = await this.store.get(r, namespace, name);
      } catch (e) {
        // Server-side apply creates what does not exist yet.
        if (type === "apply" && e instanceof ApiError && e.code === 404 && sub === undefined) {
          const o = this.checkBody(r, patch, namespace);
          if (o.metadata.name !== undefined && o.metadata.name !== name)
            throw new ApiError("BadRequest", "the name of the object does not match the name on the URL");
          o.metadata.name = name;
          return await this.create(r, namespace, o);
        }
        throw e;
      }
      const applied =
        type === "json"
          ? jsonPatch(cur, patch)
          : type === "strategic"
            ? strategicMergePatch(cur, patch)
            : mergePatch(cur, patch); // merge, and apply as a merge (no field ownership)
      if (!isObject(applied)) throw new ApiError("BadRequest", "the patch does not leave an object");
      const next = applied as KubeObject;
      const rv = next.metadata?.resourceVersion;
      if (rv && rv !== cur.metadata.resourceVersion) {
        throw this.store.conflict(r, name, true);
      }
      next.metadata.name = name;
      try {
        return await this.write(
          r,
          cur,
          this.prepareForUpdate(r, cur, this.checkBody(r, next, namespace), sub),
        );
      } catch (e) {
        // Someone wrote in between: patch the new version (kube-apiserver retries the same way).
        if (e instanceof ApiError && e.reason === "Conflict" && !rv && attempt < 5) continue;
        throw e;
      }
    }
  }

  async delete(
    r: ApiResource,
    namespace: string | undefined,
    name: string,
    body: unknown,
  ): Promise<KubeObject> {
    const cur = await this.store.get(r, namespace, name);
    const pre = isObject(body) && isObject(body.preconditions) ? body.preconditions : {};
    if (
      (pre.uid && pre.uid !== cur.metadata.uid) ||
      (pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
    ) {
      throw new ApiError(
        "Conflict",
        `Operation cannot be fulfilled on ${r.resource} "${name}": Precondition failed: UID or ResourceVersion in precondition does not match the stored object`,
        {
          name,
          group: r.group,
          kind: r.resource,
        },
      );
    }
    if ((cur.metadata.finalizers ?? []).length > 0) {
      if (cur.metadata.deletionTimestamp) return cur;
      const next = structuredClone(cur);
      next.metadata.deletionTimestamp = now();
      return await this.store.update(r, next, cur.metadata.resourceVersion!);
    }
    await this.store.delete(r, cur, cur.metadata.resourceVersion!);
    await this.afterDelete(r, cur);
    return cur;
  }

  /** The namespace controller's and the CRD finalizer's work, done at once. */
  private async afterDelete(r: ApiResource, o: KubeObject): Promise<void> {
    if (r.group === "" && r.resource === "namespaces") {
      for (const nr of this.registry.all().filter((x) => x.namespaced)) {
        await this.deleteAll(nr, o.metadata.name);
      }
    }
    if (r === CRD_RESOURCE) {
      for (const cr of this.registry
        .all()
        .filter((x) => x.custom && `${x.resource}.${x.group}` === o.metadata.name)) {
        await this.deleteAll(cr, undefined);
      }
      this.registry.removeCrd(o.metadata.name);
      this.onCrdChange();
    }
  }

  private async deleteAll(r: ApiResource, namespace: string | undefined): Promise<void> {
    const page = await this.store.list(r, { ...(namespace ? { namespace } : {}), filter: () => true });
    for (const o of page.items) {
      try {
        await this.store.delete(r, o, o.metadata.resourceVersion!);
      } catch {}
    }
  }
}
