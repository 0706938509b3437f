import { noop } from "cockatiel";
import { Etcd3, type IKeyValue, type IWatchResponse } from "etcd3";
import type { EtcdTlsFiles } from "../datastore-config.ts";
import { etcdClientSecrets } from "./etcd-credentials.ts";
import { allowTlsToIpEndpoints } from "./tls-ip-servername.ts";

/** One key as etcd holds it: revisions are decimal strings (etcd's int64s). */
export interface RawKv {
  key: string;
  value: string;
  modRevision: string;
  createRevision: string;
}

export interface RawRange {
  kvs: RawKv[];
  /** The revision the range was read at (etcd's header revision). */
  revision: string;
  /** More keys follow the last one returned (a `limit` cut the range). */
  more: boolean;
}

export interface RawWatchEvent {
  type: "put" | "delete";
  kv: RawKv;
  /** The key's previous value (puts of an existing key, deletes), when etcd still had it. */
  prev?: RawKv;
}

export interface RawWatchCallbacks {
  /** Events of one etcd response, in revision order. */
  onEvents(events: RawWatchEvent[]): void;
  /** A progress notification: every change up to `revision` in the range was delivered. */
  onProgress?(revision: string): void;
  /** The watch ended (cancelled by etcd, e.g. compacted; the client gave up). */
  onError(e: Error): void;
}

/** A write that etcd refused because its condition failed; `current` is the key now (if any). */
export class RawCasFailed extends Error {
  constructor(readonly current: RawKv | undefined) {
    super(current ? `key is at revision ${current.modRevision}` : "key does not exist");
  }
}

/** etcd refused to read or watch at a revision older than its last compaction. */
export function isCompactedError(e: unknown): boolean {
  return /compact/i.test(String((e as Error)?.message ?? e));
}

const enc = (s: string) => Buffer.from(s);

function fromKv(kv: IKeyValue): RawKv {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    modRevision: kv.mod_revision,
    createRevision: kv.create_revision,
  };
}

/** The smallest key greater than every key starting with `prefix` (etcd's range_end idiom). */
export function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix);
  b[b.length - 1]! += 1;
  return b.toString("latin1");
}

/**
 * Raw keys and revisions of an etcd, for the lab's stand-in Kubernetes API server
 * (src/lab/kube-apiserver/), which must store objects exactly as kube-apiserver does (its own key
 * layout, resourceVersion = mod_revision, conditional txns) and so cannot go through the
 * `Datastore` port. Same client setup as `EtcdDatastore` (TLS files checked first, the IP
 * servername workaround, no client-side retries). Decision 0015.
 */
export class RawEtcd {
  private readonly client: Etcd3;

  constructor(opts: { endpoints: string[]; tls?: EtcdTlsFiles; timeoutMs?: number }) {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const secrets = etcdClientSecrets({ type: "etcd", ...opts });
    if (secrets.credentials || opts.endpoints.some((e) => /^https:/i.test(e))) allowTlsToIpEndpoints();
    this.client = new Etcd3({
      hosts: opts.endpoints,
      ...secrets,
      dialTimeout: timeoutMs,
      faultHandling: { host: () => noop, global: noop },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      grpcOptions: { "grpc.initial_reconnect_backoff_ms": 100, "grpc.max_reconnect_backoff_ms": 1000 },
    });
  }

  async get(key: string): Promise<{ kv?: RawKv; revision: string }> {
    const res = await this.client.kv.range({ key: enc(key) });
    const kv = res.kvs[0];
    return { ...(kv ? { kv: fromKv(kv) } : {}), revision: res.header.revision };
  }

  /** Keys in [from, end) at `revision` (latest when absent), at most `limit` (0: all). */
  async range(
    from: string,
    end: string,
    opts: { revision?: string; limit?: number } = {},
  ): Promise<RawRange> {
    const res = await this.client.kv.range({
      key: Buffer.from(from, "latin1"),
      range_end: Buffer.from(end, "latin1"),
      ...(opts.limit ? { limit: opts.limit } : {}),
      ...(opts.revision ? { revision: opts.revision } : {}),
    });
    return { kvs: res.kvs.map(fromKv), revision: res.header.revision, more: res.more };
  }

  /** Puts `key` only if it does not exist; the write's revision, or RawCasFailed. */
  async create(key: string, value: string): Promise<string> {
    const res = await this.client.kv.txn({
      compare: [{ key: enc(key), target: "Create", result: "Equal", create_revision: 0 }],
      success: [{ request_put: { key: enc(key), value: enc(value) } }],
      failure: [{ request_range: { key: enc(key) } }],
    });
    if (!res.succeeded) throw this.casFailure(res.responses[0]?.response_range.kvs[0]);
    return res.header.revision;
  }

  /** Puts `key` only if its mod_revision is `modRevision`; the write's revision, or RawCasFailed. */
  async update(key: string, value: string, modRevision: string): Promise<string> {
    const res = await this.client.kv.txn({
      compare: [{ key: enc(key), target: "Mod", result: "Equal", mod_revision: modRevision }],
      success: [{ request_put: { key: enc(key), value: enc(value) } }],
      failure: [{ request_range: { key: enc(key) } }],
    });
    if (!res.succeeded) throw this.casFailure(res.responses[0]?.response_range.kvs[0]);
    return res.header.revision;
  }

  /** Deletes `key` only if its mod_revision is `modRevision`; the delete's revision, or RawCasFailed. */
  async delete(key: string, modRevision: string): Promise<string> {
    const res = await this.client.kv.txn({
      compare: [{ key: enc(key), target: "Mod", result: "Equal", mod_revision: modRevision }],
      success: [{ request_delete_range: { key: enc(key) } }],
      failure: [{ request_range: { key: enc(key) } }],
    });
    if (!res.succeeded) throw this.casFailure(res.responses[0]?.response_range.kvs[0]);
    return res.header.revision;
  }

  /** Watches [from, end) from `startRevision` (inclusive), with previous values. Returns a closer. */
  watch(from: string, end: string, startRevision: string, cb: RawWatchCallbacks): () => void {
    let closed = false;
    const watcher = this.client
      .watch()
      .inRange({ start: Buffer.from(from, "latin1"), end: Buffer.from(end, "latin1") })
      .startRevision(startRevision)
      .withPreviousKV()
      .watcher();
    let last = BigInt(startRevision) - 1n;
    // etcd3 resumes a broken stream from the last header revision + 1, which can be ahead of the
    // events delivered: put the resume point back to the last event seen (as EtcdDatastore does).
    watcher.on("connected", () => {
      watcher.request.start_revision = String(last + 1n);
    });
    // One txn changing several keys gives them one revision: a replay is told apart by
    // (revision, key), not by the revision alone.
    let keysAtLast = new Set<string>();
    watcher.on("data", (res: IWatchResponse) => {
      if (closed) return;
      const events: RawWatchEvent[] = [];
      for (const ev of res.events) {
        const rev = BigInt(ev.kv.mod_revision);
        const key = ev.kv.key.toString();
        if (rev < last || (rev === last && keysAtLast.has(key))) continue; // a replay after a reconnect
        if (rev !== last) keysAtLast = new Set();
        last = rev;
        keysAtLast.add(key);
        events.push({
          type: String(ev.type).toLowerCase() === "delete" ? "delete" : "put",
          kv: fromKv(ev.kv),
          ...(ev.prev_kv ? { prev: fromKv(ev.prev_kv) } : {}),
        });
      }
      watcher.request.start_revision = String(last + 1n);
      if (events.length > 0) cb.onEvents(events);
      else if (BigInt(res.header.revision) > last) cb.onProgress?.(res.header.revision);
    });
    watcher.on("error", (err: Error) => {
      if (closed) return;
      closed = true;
      void watcher.cancel().catch(() => {});
      cb.onError(err);
    });
    watcher.on("disconnected", () => {});
    return () => {
      if (closed) return;
      closed = true;
      void watcher.cancel().catch(() => {});
    };
  }

  /** Compacts history up to `revision` (physical: reads below it fail at once). */
  async compact(revision: string): Promise<void> {
    await this.client.kv.compact({ revision, physical: true });
  }

  /** Fails with a compaction error when `revision` is older than etcd's last compaction. */
  async checkRevision(revision: string): Promise<void> {
    await this.client.kv.range({ key: enc("/"), range_end: enc("0"), revision, limit: 1, keys_only: true });
  }

  close(): void {
    this.client.close();
  }

  private casFailure(kv: IKeyValue | undefined): RawCasFailed {
    return new RawCasFailed(kv ? fromKv(kv) : undefined);
  }
}
