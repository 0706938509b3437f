import type { Resource } from "../../model/resource.ts";
import type { Datastore, ListResult, WatchEvent, WatchHandle, WatchOptions } from "../datastore.ts";
import type { EtcdTlsFiles, EtcdUser } from "../datastore-config.ts";
import { datastoreError } from "../datastore-error.ts";
import { prepareWrite } from "../prepare-write.ts";
import { storeKey } from "../store-key.ts";
import { checkKind, checkName } from "../validate-resource.ts";
import { EtcdClient } from "./etcd-client.ts";
import { etcdClientSecrets } from "./etcd-credentials.ts";
import { etcdError } from "./etcd-error.ts";
import { prefixRangeEnd } from "./etcd-requests.ts";
import type { KeyValue } from "./etcd-responses.ts";
import { watchEtcd } from "./etcd-watch.ts";

export interface EtcdDatastoreOptions {
  endpoints: string[];
  /** TLS (https:// endpoints): the CA of etcd's certificate, and our client certificate. */
  tls?: EtcdTlsFiles;
  /** An etcd user, for an etcd with auth enabled. */
  auth?: EtcdUser;
  /** Key prefix of everything tartan stores (default "/tartan"). */
  prefix?: string;
  /** Deadline of one call (default 2 s): with etcd down, callers learn it fast and carry on. */
  timeoutMs?: number;
  /**
   * Keys per range request of a list (default 500). A list is read in pages at one revision:
   * gRPC refuses answers above 4 MB, which 10k Pods exceed, and each page gets its own deadline.
   */
  listPageSize?: number;
}

const text = new TextDecoder();

/** The key right after `key` (a list's next page starts there). */
function after(key: Uint8Array): Uint8Array {
  const b = new Uint8Array(key.length + 1);
  b.set(key);
  return b;
}

/**
 * The `etcd` Datastore over etcd v3 (gRPC, tartan's own thin client: etcd-client.ts). Keys are
 * `<prefix>/<kind>/<namespace or _>/<name>`; the stored value is the object's JSON without its
 * resourceVersion, which is the key's mod_revision (so it can never disagree with etcd's).
 * create = txn(create_revision == 0), update/delete = txn(mod_revision == resourceVersion); the
 * failure branch reads the key, to tell not-found from conflict in the same round trip.
 */
export class EtcdDatastore implements Datastore {
  private readonly client: EtcdClient;
  private readonly prefix: string;
  private readonly endpoints: string[];
  private readonly pageSize: number;

  constructor(opts: EtcdDatastoreOptions) {
    this.endpoints = opts.endpoints;
    this.pageSize = opts.listPageSize ?? 500;
    this.prefix = (opts.prefix ?? "/tartan").replace(/\/+$/, "");
    // Fail fast: no client-side retries; the agent retries at its own pace and keeps working
    // from what it has. Watches reconnect by themselves (etcd-watch.ts).
    this.client = new EtcdClient({
      endpoints: opts.endpoints,
      ...etcdClientSecrets({ type: "etcd", ...opts }),
      timeoutMs: opts.timeoutMs ?? 2000,
    });
  }

  async get(kind: string, name: string, namespace?: string): Promise<Resource | undefined> {
    checkKind(kind);
    checkName(name, namespace || undefined);
    const res = await this.call("get", () => this.client.range({ key: this.key(kind, name, namespace) }));
    const kv = res.kvs[0];
    return kv ? this.decode(kv) : undefined;
  }

  async list(kind: string, namespace?: string): Promise<ListResult> {
    const items: Resource[] = [];
    const { revision } = await this.listPages(kind, (page) => void items.push(...page), namespace);
    return { items, revision };
  }

  async listPages(
    kind: string,
    onPage: (items: readonly Resource[]) => void,
    namespace?: string,
  ): Promise<Pick<ListResult, "revision">> {
    checkKind(kind);
    if (namespace) checkName("x", namespace);
    const p = namespace ? this.key(kind, "", namespace) : `${this.prefix}/${kind}/`;
    const end = prefixRangeEnd(p);
    const page = (key: Uint8Array | string, revision?: string) =>
      this.call("list", () =>
        this.client.range({ key, rangeEnd: end, limit: this.pageSize, ...(revision ? { revision } : {}) }),
      );
    let res = await page(p);
    // Every page at the first page's revision: one consistent snapshot, as a single range was.
    const revision = res.revision;
    for (;;) {
      const last = res.kvs[res.kvs.length - 1];
      // The next page is asked for before this one is decoded and handed over: etcd reads and
      // sends it while this thread parses (at 10k Pods, 20 pages of ~230 KB). Its failure is
      // taken up below.
      const next = res.more && last ? page(after(last.key), revision) : undefined;
      next?.catch(() => {});
      const items: Resource[] = [];
      for (const kv of res.kvs) items.push(this.decode(kv));
      onPage(items);
      if (!next) break;
      res = await next;
    }
    return { revision };
  }

  async create(obj: Resource): Promise<Resource> {
    const o = prepareWrite(obj, "create");
    const key = this.key(o.kind, o.metadata.name, o.metadata.namespace);
    const res = await this.call("create", () =>
      this.client.txn({
        compare: [{ key, target: "create", revision: "0" }],
        success: [{ put: { key, value: this.encode(o) } }],
      }),
    );
    if (!res.succeeded) throw datastoreError("datastore-conflict", `${this.display(key)} already exists`);
    return { ...o, metadata: { ...o.metadata, resourceVersion: res.revision } };
  }

  async update(obj: Resource): Promise<Resource> {
    const o = prepareWrite(obj, "update");
    const key = this.key(o.kind, o.metadata.name, o.metadata.namespace);
    const rv = o.metadata.resourceVersion!;
    const res = await this.call("update", () =>
      this.client.txn({
        compare: [{ key, target: "mod", revision: rv }],
        success: [{ put: { key, value: this.encode(o) } }],
        failure: [{ range: { key } }],
      }),
    );
    if (!res.succeeded) throw this.casFailure(key, rv, res.ranges[0]?.kvs[0]);
    return { ...o, metadata: { ...o.metadata, resourceVersion: res.revision } };
  }

  async delete(kind: string, name: string, namespace?: string, resourceVersion?: string): Promise<void> {
    checkKind(kind);
    checkName(name, namespace || undefined);
    const key = this.key(kind, name, namespace);
    if (resourceVersion === undefined) {
      const res = await this.call("delete", () => this.client.deleteRange(key));
      if (res.deleted === "0")
        throw datastoreError("datastore-not-found", `${this.display(key)} does not exist`);
      return;
    }
    const res = await this.call("delete", () =>
      this.client.txn({
        compare: [{ key, target: "mod", revision: resourceVersion }],
        success: [{ deleteRange: { key } }],
        failure: [{ range: { key } }],
      }),
    );
    if (!res.succeeded) throw this.casFailure(key, resourceVersion, res.ranges[0]?.kvs[0]);
  }

  watch(
    kind: string,
    fromRevision: string,
    onEvent: (e: WatchEvent) => void,
    onError?: (e: Error) => void,
    opts?: WatchOptions,
  ): WatchHandle {
    checkKind(kind);
    const prefix = `${this.prefix}/${kind}/`;
    let closed = false;
    const stop = watchEtcd(
      this.client,
      // Without previous values a DELETED event is built from its key (fromKey).
      {
        key: prefix,
        rangeEnd: prefixRangeEnd(prefix),
        startRevision: String(BigInt(fromRevision) + 1n),
        prevKv: !opts?.deletedIdentityOnly,
      },
      {
        onEvents: (events) => {
          for (const ev of events) {
            if (closed) return; // closed by an earlier event's handler
            onEvent(this.toEvent(ev.type, ev.kv, ev.prevKv));
          }
        },
        onError: (err, next) => {
          closed = true;
          void this.watchFailure(kind, next, err).then((e) => onError?.(e));
        },
      },
    );
    return {
      close: () => {
        closed = true;
        stop();
      },
    };
  }

  /** Compacts etcd's history up to `revision` (tests; in production etcd's auto-compaction does it). */
  async compact(revision: string): Promise<void> {
    await this.call("compact", () => this.client.compact(revision));
  }

  async close(): Promise<void> {
    this.client.close();
  }

  private key(kind: string, name: string, namespace?: string): string {
    return `${this.prefix}/${storeKey(kind, name, namespace)}`;
  }

  private display(key: string): string {
    return key.slice(this.prefix.length + 1);
  }

  private encode(o: Resource): string {
    const { resourceVersion: _, ...metadata } = o.metadata;
    return JSON.stringify({ ...o, metadata });
  }

  private decode(kv: KeyValue): Resource {
    let o: Resource | undefined;
    try {
      o = JSON.parse(text.decode(kv.value)) as Resource;
    } catch {}
    // A value written around tartan that is no object with metadata would fail the whole list
    // (and so the agent's mirror of its kind): it keeps only its key's identity, which the
    // agent's ingestion validation refuses (no apiVersion, no spec) and reports.
    if (typeof o !== "object" || o === null || typeof o.metadata !== "object" || o.metadata === null) {
      o = this.fromKey(text.decode(kv.key));
    }
    o.metadata.resourceVersion = kv.modRevision;
    return o;
  }

  private toEvent(type: "put" | "delete", kv: KeyValue, prev: KeyValue | undefined): WatchEvent {
    if (type === "put") {
      return {
        type: kv.createRevision === kv.modRevision ? "ADDED" : "MODIFIED",
        object: this.decode(kv),
        revision: kv.modRevision,
      };
    }
    // The deleted object as last stored (prev_kv), with the deletion's revision as its version.
    const object = prev?.value.length ? this.decode(prev) : this.fromKey(text.decode(kv.key));
    object.metadata.resourceVersion = kv.modRevision;
    return { type: "DELETED", object, revision: kv.modRevision };
  }

  /** A bare object from its key, for a DELETED event whose previous value etcd no longer has. */
  private fromKey(key: string): Resource {
    const [kind = "", ns = "_", name = ""] = this.display(key).split("/");
    return {
      apiVersion: "",
      kind,
      metadata: ns === "_" ? { name } : { name, namespace: ns },
      spec: null,
    };
  }

  /**
   * Why etcd cancelled a watch. etcd 3.4 cancels a watch from a compacted revision with an empty
   * reason and the compact_revision field set (etcd-watch.ts words that as "compacted"); for any
   * other end, ask etcd: a read at the revision the watch needed fails with "compacted" exactly
   * when that is the cause.
   */
  private async watchFailure(kind: string, next: string, err: Error): Promise<Error> {
    if (/compact/i.test(err.message)) return this.compactedError(kind, next, err);
    try {
      await this.client.range({ key: `${this.prefix}/${kind}/`, revision: next, limit: 1 });
    } catch (e) {
      if (/compact/i.test(String((e as Error)?.message))) return this.compactedError(kind, next, e);
    }
    return etcdError(`watch of ${kind}`, this.endpoints, err);
  }

  private compactedError(kind: string, next: string, cause: unknown): Error {
    return datastoreError("datastore-compacted", `watch of ${kind}: revision ${next} was compacted`, cause);
  }

  private casFailure(key: string, expected: string, cur: KeyValue | undefined): Error {
    if (!cur) return datastoreError("datastore-not-found", `${this.display(key)} does not exist`);
    return datastoreError(
      "datastore-conflict",
      `${this.display(key)} is at version ${cur.modRevision}, not ${expected}`,
    );
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw etcdError(what, this.endpoints, e);
    }
  }
}
