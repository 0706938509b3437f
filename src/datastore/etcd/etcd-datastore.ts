import { ExponentialBackoff, type IBackoff, noop } from "cockatiel";
import { Etcd3, type IKeyValue, type IWatchResponse } from "etcd3";
import type { Resource } from "../../model/resource.ts";
import type { Datastore, ListResult, WatchEvent, WatchHandle, WatchOptions } from "../datastore.ts";
import type { EtcdTlsFiles, EtcdUser } from "../datastore-config.ts";
import { datastoreError } from "../datastore-error.ts";
import { prepareWrite } from "../prepare-write.ts";
import { storeKey } from "../store-key.ts";
import { checkKind, checkName } from "../validate-resource.ts";
import { etcdClientSecrets } from "./etcd-credentials.ts";
import { etcdError } from "./etcd-error.ts";
import { allowTlsToIpEndpoints } from "./tls-ip-servername.ts";

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

const enc = (s: string) => Buffer.from(s);

/** The smallest key greater than every key starting with `prefix` (etcd's range_end idiom). */
function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  b[b.length - 1]! += 1;
  return b;
}

/**
 * The `etcd` Datastore over etcd v3 (gRPC, the `etcd3` client). Keys are
 * `<prefix>/<kind>/<namespace or _>/<name>`; the stored value is the object's JSON without its
 * resourceVersion, which is the key's mod_revision (so it can never disagree with etcd's).
 * create = txn(create_revision == 0), update/delete = txn(mod_revision == resourceVersion); the
 * failure branch reads the key, to tell not-found from conflict in the same round trip.
 */
export class EtcdDatastore implements Datastore {
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly endpoints: string[];
  private readonly pageSize: number;

  constructor(opts: EtcdDatastoreOptions) {
    this.endpoints = opts.endpoints;
    this.pageSize = opts.listPageSize ?? 500;
    this.prefix = (opts.prefix ?? "/tartan").replace(/\/+$/, "");
    const timeoutMs = opts.timeoutMs ?? 2000;
    const secrets = etcdClientSecrets({ type: "etcd", ...opts });
    if (secrets.credentials || opts.endpoints.some((e) => /^https:/i.test(e))) allowTlsToIpEndpoints();
    this.client = new Etcd3({
      hosts: opts.endpoints,
      ...secrets,
      dialTimeout: timeoutMs,
      // Fail fast: no client-side retries or circuit breaker (an open breaker would keep failing
      // calls after etcd is back); the agent retries at its own pace.
      faultHandling: {
        host: () => noop,
        global: noop,
        // etcd3 calls .next() on this itself (its own default is a bare ExponentialBackoff), so it
        // takes the factory at run time although its typings ask for an IBackoff.
        watchBackoff: new ExponentialBackoff({
          initialDelay: 100,
          maxDelay: 2000,
        }) as unknown as IBackoff<unknown>,
      },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      // gRPC's default reconnect backoff grows to 120 s; after an outage we want etcd back in ~1 s.
      grpcOptions: { "grpc.initial_reconnect_backoff_ms": 100, "grpc.max_reconnect_backoff_ms": 1000 },
    });
  }

  async get(kind: string, name: string, namespace?: string): Promise<Resource | undefined> {
    checkKind(kind);
    checkName(name, namespace || undefined);
    const res = await this.call("get", () =>
      this.client.kv.range({ key: enc(this.key(kind, name, namespace)) }),
    );
    const kv = res.kvs[0];
    return kv ? this.decode(kv) : undefined;
  }

  async list(kind: string, namespace?: string): Promise<ListResult> {
    checkKind(kind);
    if (namespace) checkName("x", namespace);
    const p = namespace ? this.key(kind, "", namespace) : `${this.prefix}/${kind}/`;
    const end = prefixEnd(p);
    const items: Resource[] = [];
    let from = enc(p);
    let revision: string | undefined;
    for (;;) {
      // Every page at the first page's revision: one consistent snapshot, as a single range was.
      const res = await this.call("list", () =>
        this.client.kv.range({
          key: from,
          range_end: end,
          limit: this.pageSize,
          ...(revision ? { revision } : {}),
        }),
      );
      revision ??= res.header.revision;
      for (const kv of res.kvs) items.push(this.decode(kv));
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return { items, revision };
  }

  async create(obj: Resource): Promise<Resource> {
    const o = prepareWrite(obj, "create");
    const key = this.key(o.kind, o.metadata.name, o.metadata.namespace);
    const res = await this.call("create", () =>
      this.client.kv.txn({
        compare: [{ key: enc(key), target: "Create", result: "Equal", create_revision: 0 }],
        success: [{ request_put: { key: enc(key), value: this.encode(o) } }],
      }),
    );
    if (!res.succeeded) throw datastoreError("datastore-conflict", `${this.display(key)} already exists`);
    return { ...o, metadata: { ...o.metadata, resourceVersion: res.header.revision } };
  }

  async update(obj: Resource): Promise<Resource> {
    const o = prepareWrite(obj, "update");
    const key = this.key(o.kind, o.metadata.name, o.metadata.namespace);
    const rv = o.metadata.resourceVersion!;
    const res = await this.call("update", () =>
      this.client.kv.txn({
        compare: [{ key: enc(key), target: "Mod", result: "Equal", mod_revision: rv }],
        success: [{ request_put: { key: enc(key), value: this.encode(o) } }],
        failure: [{ request_range: { key: enc(key) } }],
      }),
    );
    if (!res.succeeded) throw this.casFailure(key, rv, res.responses[0]?.response_range.kvs[0]);
    return { ...o, metadata: { ...o.metadata, resourceVersion: res.header.revision } };
  }

  async delete(kind: string, name: string, namespace?: string, resourceVersion?: string): Promise<void> {
    checkKind(kind);
    checkName(name, namespace || undefined);
    const key = this.key(kind, name, namespace);
    if (resourceVersion === undefined) {
      const res = await this.call("delete", () => this.client.kv.deleteRange({ key: enc(key) }));
      if (res.deleted === "0")
        throw datastoreError("datastore-not-found", `${this.display(key)} does not exist`);
      return;
    }
    const res = await this.call("delete", () =>
      this.client.kv.txn({
        compare: [{ key: enc(key), target: "Mod", result: "Equal", mod_revision: resourceVersion }],
        success: [{ request_delete_range: { key: enc(key) } }],
        failure: [{ request_range: { key: enc(key) } }],
      }),
    );
    if (!res.succeeded) throw this.casFailure(key, resourceVersion, res.responses[0]?.response_range.kvs[0]);
  }

  watch(
    kind: string,
    fromRevision: string,
    onEvent: (e: WatchEvent) => void,
    onError?: (e: Error) => void,
    opts?: WatchOptions,
  ): WatchHandle {
    checkKind(kind);
    let last = BigInt(fromRevision);
    let closed = false;
    const builder = this.client
      .watch()
      .prefix(`${this.prefix}/${kind}/`)
      .startRevision(String(last + 1n));
    // Without prev_kv a DELETED event is built from its key (fromKey).
    const watcher = (opts?.deletedIdentityOnly ? builder : builder.withPreviousKV()).watcher();
    // etcd3 resumes a broken stream from the last response header's revision + 1, but a header
    // can be ahead of the events delivered so far (a catch-up sent in several responses, or the
    // "created" answer of a watch from the past): resuming from it could skip events. These
    // listeners run after etcd3's own, so they put the resume point back to the last event seen.
    const pinResume = () => {
      watcher.request.start_revision = String(last + 1n);
    };
    watcher.on("connected", pinResume);
    // One etcd transaction changing several keys gives all of them the same revision: a replay is
    // told apart by (revision, key), not by the revision alone, or every event of a multi-key
    // transaction after its first would be dropped.
    let keysAtLast = new Set<string>();
    watcher.on("data", (res: IWatchResponse) => {
      for (const ev of res.events) {
        if (closed) return;
        const rev = BigInt(ev.kv.mod_revision);
        const key = ev.kv.key.toString();
        if (rev < last || (rev === last && keysAtLast.has(key))) continue; // a replay after a reconnect
        if (rev !== last) keysAtLast = new Set();
        last = rev;
        keysAtLast.add(key);
        onEvent(this.toEvent(ev.type, ev.kv, ev.prev_kv));
      }
      pinResume();
    });
    watcher.on("error", (err) => {
      if (closed) return;
      closed = true;
      void watcher.cancel().catch(() => {});
      void this.watchFailure(kind, last, err).then((e) => onError?.(e));
    });
    // Disconnections are retried by etcd3 (watchBackoff); nothing to do but not crash on them.
    watcher.on("disconnected", () => {});
    return {
      close: () => {
        if (closed) return;
        closed = true;
        void watcher.cancel().catch(() => {});
      },
    };
  }

  /** Compacts etcd's history up to `revision` (tests; in production etcd's auto-compaction does it). */
  async compact(revision: string): Promise<void> {
    await this.call("compact", () => this.client.kv.compact({ revision, physical: true }));
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

  private encode(o: Resource): Buffer {
    const { resourceVersion: _, ...metadata } = o.metadata;
    return Buffer.from(JSON.stringify({ ...o, metadata }));
  }

  private decode(kv: IKeyValue): Resource {
    let o: Resource | undefined;
    try {
      o = JSON.parse(kv.value.toString()) as Resource;
    } catch {}
    // A value written around tartan that is no object with metadata would fail the whole list
    // (and so the agent's mirror of its kind): it keeps only its key's identity, which the
    // agent's ingestion validation refuses (no apiVersion, no spec) and reports.
    if (typeof o !== "object" || o === null || typeof o.metadata !== "object" || o.metadata === null) {
      o = this.fromKey(kv.key.toString());
    }
    o.metadata.resourceVersion = kv.mod_revision;
    return o;
  }

  private toEvent(type: string, kv: IKeyValue, prev: IKeyValue | undefined): WatchEvent {
    if (String(type).toUpperCase() !== "DELETE") {
      return {
        type: kv.create_revision === kv.mod_revision ? "ADDED" : "MODIFIED",
        object: this.decode(kv),
        revision: kv.mod_revision,
      };
    }
    // The deleted object as last stored (prev_kv), with the deletion's revision as its version.
    const object = prev?.value.length ? this.decode(prev) : this.fromKey(kv.key.toString());
    object.metadata.resourceVersion = kv.mod_revision;
    return { type: "DELETED", object, revision: kv.mod_revision };
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
   * reason (the compact_revision field, which etcd3 does not pass on, says it), so ask etcd: a
   * read at the revision the watch needed fails with "compacted" exactly when that is the cause.
   */
  private async watchFailure(kind: string, last: bigint, err: Error): Promise<Error> {
    if (/compact/i.test(err.message)) return this.compactedError(kind, last, err);
    try {
      await this.client.kv.range({
        key: enc(`${this.prefix}/${kind}/`),
        revision: String(last + 1n),
        limit: 1,
      });
    } catch (e) {
      if (/compact/i.test(String((e as Error)?.message))) return this.compactedError(kind, last, e);
    }
    return etcdError(`watch of ${kind}`, this.endpoints, err);
  }

  private compactedError(kind: string, last: bigint, cause: unknown): Error {
    return datastoreError(
      "datastore-compacted",
      `watch of ${kind}: revision ${last + 1n} was compacted`,
      cause,
    );
  }

  private casFailure(key: string, expected: string, cur: IKeyValue | undefined): Error {
    if (!cur) return datastoreError("datastore-not-found", `${this.display(key)} does not exist`);
    return datastoreError(
      "datastore-conflict",
      `${this.display(key)} is at version ${cur.mod_revision}, not ${expected}`,
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
