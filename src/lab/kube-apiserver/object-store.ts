import {
  isCompactedError,
  prefixEnd,
  RawCasFailed,
  type RawEtcd,
  type RawKv,
} from "../../datastore/etcd/raw-etcd.ts";
import { ApiError, notFound } from "./api-error.ts";
import { type ApiResource, groupVersion } from "./api-resource.ts";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  generateName?: string;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [k: string]: unknown;
}

export interface ListOptions {
  namespace?: string;
  limit?: number;
  continueToken?: string;
  /** Exact: read at this revision (410 if compacted); otherwise the latest. */
  exactRevision?: string;
  filter: (o: KubeObject) => boolean;
}

export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
}

interface ContinueToken {
  rv: string;
  start: string;
}

/**
 * Kubernetes objects in etcd, stored as kube-apiserver stores them: key
 * `<prefix>/<namespace>/<name>` (cluster-scoped: `<prefix>/<name>`), value = the object's JSON
 * without resourceVersion, resourceVersion = the key's mod_revision, a list's resourceVersion =
 * the revision it was read at; create = txn(key absent), update and delete = txn(mod_revision ==
 * the version read), so a lost race is a 409 and never a lost write.
 */
export class ObjectStore {
  constructor(readonly etcd: RawEtcd) {}

  key(r: ApiResource, namespace: string | undefined, name: string): string {
    return r.namespaced ? `${r.etcdPrefix}/${namespace}/${name}` : `${r.etcdPrefix}/${name}`;
  }

  prefix(r: ApiResource, namespace?: string): string {
    return r.namespaced && namespace ? `${r.etcdPrefix}/${namespace}/` : `${r.etcdPrefix}/`;
  }

  decode(r: ApiResource, kv: RawKv): KubeObject {
    const o = JSON.parse(kv.value) as KubeObject;
    // Custom resources are served at every version without conversion (strategy None).
    o.apiVersion = groupVersion(r);
    o.kind = r.kind;
    o.metadata.resourceVersion = kv.modRevision;
    return o;
  }

  encode(o: KubeObject): string {
    const { resourceVersion: _, selfLink: __, ...metadata } = o.metadata;
    return JSON.stringify({ ...o, metadata });
  }

  async get(r: ApiResource, namespace: string | undefined, name: string): Promise<KubeObject> {
    const { kv } = await this.etcd.get(this.key(r, namespace, name));
    if (!kv) throw notFound(r.resource, r.group, name);
    return this.decode(r, kv);
  }

  async list(r: ApiResource, o: ListOptions): Promise<ListPage> {
    const prefix = this.prefix(r, o.namespace);
    const end = prefixEnd(prefix);
    let start = prefix;
    let rv = o.exactRevision;
    if (o.continueToken) {
      let t: ContinueToken;
      try {
        t = JSON.parse(Buffer.from(o.continueToken, "base64url").toString()) as ContinueToken;
        if (typeof t.rv !== "string" || typeof t.start !== "string" || !t.start.startsWith(prefix))
          throw new Error();
      } catch {
        throw new ApiError("BadRequest", "continue key is not valid");
      }
      rv = t.rv;
      start = t.start;
    }
    const items: KubeObject[] = [];
    const want = o.limit && o.limit > 0 ? o.limit : 0;
    for (;;) {
      let page: Awaited<ReturnType<RawEtcd["range"]>>;
      try {
        page = await this.etcd.range(start, end, {
          ...(rv ? { revision: rv } : {}),
          ...(want ? { limit: want } : {}),
        });
      } catch (e) {
        if (isCompactedError(e)) {
          throw o.continueToken
            ? new ApiError(
                "Expired",
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
              )
            : new ApiError("Expired", `too old resource version: ${rv}`);
        }
        throw e;
      }
      rv ??= page.revision;
      for (const kv of page.kvs) {
        const obj = this.decode(r, kv);
        if (o.filter(obj)) items.push(obj);
        start = `${kv.key}\0`;
        if (want && items.length >= want) {
          const more = page.more || kv !== page.kvs[page.kvs.length - 1];
          return {
            items,
            resourceVersion: rv,
            ...(more
              ? { continueToken: Buffer.from(JSON.stringify({ rv, start })).toString("base64url") }
              : {}),
          };
        }
      }
      if (!page.more) return { items, resourceVersion: rv };
    }
  }

  async create(r: ApiResource, o: KubeObject): Promise<KubeObject> {
    const key = this.key(r, o.metadata.namespace, o.metadata.name);
    try {
      const rev = await this.etcd.create(key, this.encode(o));
      return { ...o, metadata: { ...o.metadata, resourceVersion: rev } };
    } catch (e) {
      if (e instanceof RawCasFailed) {
        const what = r.group ? `${r.resource}.${r.group}` : r.resource;
        throw new ApiError("AlreadyExists", `${what} "${o.metadata.name}" already exists`, {
          name: o.metadata.name,
          group: r.group,
          kind: r.resource,
        });
      }
      throw e;
    }
  }

  /** Writes `o` if the stored object is still at `expected`; 409 Conflict (404 if gone) otherwise. */
  async update(r: ApiResource, o: KubeObject, expected: string): Promise<KubeObject> {
    const key = this.key(r, o.metadata.namespace, o.metadata.name);
    try {
      const rev = await this.etcd.update(key, this.encode(o), expected);
      return { ...o, metadata: { ...o.metadata, resourceVersion: rev } };
    } catch (e) {
      if (e instanceof RawCasFailed) throw this.conflict(r, o.metadata.name, e);
      throw e;
    }
  }

  async delete(r: ApiResource, o: KubeObject, expected: string): Promise<string> {
    try {
      return await this.etcd.delete(this.key(r, o.metadata.namespace, o.metadata.name), expected);
    } catch (e) {
      if (e instanceof RawCasFailed) throw this.conflict(r, o.metadata.name, e);
      throw e;
    }
  }

  /** 409 Conflict for a stale write (`exists`: a RawCasFailed's key, or true), 404 when the key is gone. */
  conflict(r: ApiResource, name: string, exists: RawCasFailed | true): ApiError {
    if (exists !== true && !exists.current) return notFound(r.resource, r.group, name);
    const what = r.group ? `${r.resource}.${r.group}` : r.resource;
    return new ApiError(
      "Conflict",
      `Operation cannot be fulfilled on ${what} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: r.group, kind: r.resource },
    );
  }
}
