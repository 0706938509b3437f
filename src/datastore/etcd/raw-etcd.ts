import type { EtcdTlsFiles } from "../datastore-config.ts";
import { EtcdClient } from "./etcd-client.ts";
import { etcdClientSecrets } from "./etcd-credentials.ts";
import { prefixRangeEnd } from "./etcd-requests.ts";
import type { KeyValue } from "./etcd-responses.ts";
import { watchEtcd } from "./etcd-watch.ts";

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

const utf8 = new TextDecoder();

function fromKv(kv: KeyValue): RawKv {
  return {
    key: utf8.decode(kv.key),
    value: utf8.decode(kv.value),
    modRevision: kv.modRevision,
    createRevision: kv.createRevision,
  };
}

/** A key given as a string of byte values (prefixEnd's, latin1) as those bytes. */
const latin1 = (s: string) => Buffer.from(s, "latin1");

/** prefixRangeEnd as a string of byte values (latin1), as this class's key ranges take it. */
export function prefixEnd(prefix: string): string {
  return Buffer.from(prefixRangeEnd(prefix)).toString("latin1");
}

/**
 * Raw keys and revisions of an etcd, for the lab's stand-in Kubernetes API server
 * (src/lab/kube-apiserver/), which must store objects exactly as kube-apiserver does (its own key
 * layout, resourceVersion = mod_revision, conditional txns) and so cannot go through the
 * `Datastore` port. Same client as `EtcdDatastore` (TLS files checked first, no client-side
 * retries). Decision 0015.
 */
export class RawEtcd {
  private readonly client: EtcdClient;

  constructor(opts: { endpoints: string[]; tls?: EtcdTlsFiles; timeoutMs?: number }) {
    this.client = new EtcdClient({
      endpoints: opts.endpoints,
      ...etcdClientSecrets({ type: "etcd", ...opts }),
      timeoutMs: opts.timeoutMs ?? 5000,
    });
  }

  async get(key: string): Promise<{ kv?: RawKv; revision: string }> {
    const res = await this.client.range({ key });
    const kv = res.kvs[0];
    return { ...(kv ? { kv: fromKv(kv) } : {}), revision: res.revision };
  }

  /** Keys in [from, end) at `revision` (latest when absent), at most `limit` (0: all). */
  async range(
    from: string,
    end: string,
    opts: { revision?: string; limit?: number } = {},
  ): Promise<RawRange> {
    const res = await this.client.range({
      key: latin1(from),
      rangeEnd: latin1(end),
      ...(opts.limit ? { limit: opts.limit } : {}),
      ...(opts.revision ? { revision: opts.revision } : {}),
    });
    return { kvs: res.kvs.map(fromKv), revision: res.revision, more: res.more };
  }

  /** Puts `key` only if it does not exist; the write's revision, or RawCasFailed. */
  async create(key: string, value: string): Promise<string> {
    return this.conditional(key, "create", "0", { put: { key, value } });
  }

  /** Puts `key` only if its mod_revision is `modRevision`; the write's revision, or RawCasFailed. */
  async update(key: string, value: string, modRevision: string): Promise<string> {
    return this.conditional(key, "mod", modRevision, { put: { key, value } });
  }

  /** Deletes `key` only if its mod_revision is `modRevision`; the delete's revision, or RawCasFailed. */
  async delete(key: string, modRevision: string): Promise<string> {
    return this.conditional(key, "mod", modRevision, { deleteRange: { key } });
  }

  /**
   * Watches [from, end) from `startRevision` (inclusive), with previous values and etcd's
   * progress notifications. Returns a closer.
   */
  watch(from: string, end: string, startRevision: string, cb: RawWatchCallbacks): () => void {
    return watchEtcd(
      this.client,
      // Progress notifications: the stand-in API server's BOOKMARKs carry what etcd confirms.
      { key: latin1(from), rangeEnd: latin1(end), startRevision, prevKv: true, progressNotify: true },
      {
        onEvents: (events) =>
          cb.onEvents(
            events.map((ev) => ({
              type: ev.type,
              kv: fromKv(ev.kv),
              ...(ev.prevKv ? { prev: fromKv(ev.prevKv) } : {}),
            })),
          ),
        onProgress: (revision) => cb.onProgress?.(revision),
        onError: (e) => cb.onError(e),
      },
    );
  }

  /** Compacts history up to `revision` (physical: reads below it fail at once). */
  async compact(revision: string): Promise<void> {
    await this.client.compact(revision);
  }

  /** Fails with a compaction error when `revision` is older than etcd's last compaction. */
  async checkRevision(revision: string): Promise<void> {
    await this.client.range({ key: "/", rangeEnd: "0", revision, limit: 1, keysOnly: true });
  }

  close(): void {
    this.client.close();
  }

  private async conditional(
    key: string,
    target: "create" | "mod",
    revision: string,
    write: { put: { key: string; value: string } } | { deleteRange: { key: string } },
  ): Promise<string> {
    const res = await this.client.txn({
      compare: [{ key, target, revision }],
      success: [write],
      failure: [{ range: { key } }],
    });
    if (!res.succeeded) {
      const cur = res.ranges[0]?.kvs[0];
      throw new RawCasFailed(cur ? fromKv(cur) : undefined);
    }
    return res.revision;
  }
}
