import { isCompactedError, prefixEnd, type RawKv } from "../../datastore/etcd/raw-etcd.ts";
import { ApiError } from "./api-error.ts";
import { type ApiResource, groupVersion } from "./api-resource.ts";
import type { KubeObject, ObjectStore } from "./object-store.ts";

export interface WatchOptions {
  namespace?: string;
  /** Absent or "0": synthetic ADDED events for what exists, then changes. */
  resourceVersion?: string;
  filter: (o: KubeObject) => boolean;
  bookmarks: boolean;
  /** With resourceVersion unset or "0": a BOOKMARK marked `k8s.io/initial-events-end` after the ADDED events. */
  sendInitialEvents: boolean;
  bookmarkIntervalMs: number;
}

export interface WatchSink {
  /** One event, written as one line of JSON. */
  send(event: { type: string; object: unknown }): void;
  /** Ends the stream (the response ends; client-go then resumes from its last version). */
  end(): void;
}

function expired(message: string) {
  return { type: "ERROR", object: new ApiError("Expired", message).status() };
}

/**
 * A Kubernetes watch as kube-apiserver serves it from etcd: an etcd watch of the kind's key
 * range from resourceVersion + 1 (every event's resourceVersion is its etcd revision), selectors
 * applied to both the old and the new object so an object moving out of a selector is DELETED and
 * one moving in is ADDED; a version older than etcd's last compaction is an ERROR event with a 410
 * Status (then the stream ends); BOOKMARKs carry the newest revision etcd has confirmed delivered
 * (its progress notifications) or the last event's. Returns the closer.
 */
export async function startWatch(
  store: ObjectStore,
  r: ApiResource,
  o: WatchOptions,
  sink: WatchSink,
): Promise<() => void> {
  const prefix = store.prefix(r, o.namespace);
  let from = o.resourceVersion;
  let closed = false;
  let stopEtcd = () => {};
  let timer: ReturnType<typeof setInterval> | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    stopEtcd();
    if (timer) clearInterval(timer);
  };
  const bookmark = (rv: string, initialEnd = false) =>
    sink.send({
      type: "BOOKMARK",
      object: {
        kind: r.kind,
        apiVersion: groupVersion(r),
        metadata: {
          resourceVersion: rv,
          ...(initialEnd ? { annotations: { "k8s.io/initial-events-end": "true" } } : {}),
        },
      },
    });

  if (!from || from === "0") {
    const page = await store.list(r, {
      ...(o.namespace ? { namespace: o.namespace } : {}),
      filter: o.filter,
    });
    for (const item of page.items) sink.send({ type: "ADDED", object: item });
    from = page.resourceVersion;
    if (o.sendInitialEvents) bookmark(from, true);
  } else {
    if (!/^\d+$/.test(from)) throw new ApiError("BadRequest", `invalid resource version: ${from}`);
    try {
      await store.etcd.checkRevision(from);
    } catch (e) {
      if (isCompactedError(e)) {
        sink.send(expired(`too old resource version: ${from}`));
        sink.end();
        return close;
      }
      // A version from the future: etcd has not got there yet; watch from it anyway.
      if (!/future/i.test(String((e as Error).message))) throw e;
    }
  }
  let progress = from;
  const decode = (kv: RawKv) => store.decode(r, kv);
  stopEtcd = store.etcd.watch(prefix, prefixEnd(prefix), String(BigInt(from) + 1n), {
    onEvents: (events) => {
      for (const ev of events) {
        if (closed) return;
        progress = ev.kv.modRevision;
        const prev = ev.prev ? decode(ev.prev) : undefined;
        if (ev.type === "delete") {
          if (prev && o.filter(prev)) {
            prev.metadata.resourceVersion = ev.kv.modRevision;
            sink.send({ type: "DELETED", object: prev });
          }
          continue;
        }
        const obj = decode(ev.kv);
        const now = o.filter(obj);
        const before = ev.kv.createRevision === ev.kv.modRevision ? false : prev ? o.filter(prev) : now;
        if (now && before) sink.send({ type: "MODIFIED", object: obj });
        else if (now) sink.send({ type: "ADDED", object: obj });
        else if (before) sink.send({ type: "DELETED", object: obj });
      }
    },
    onProgress: (rev) => {
      progress = rev;
    },
    onError: (e) => {
      if (closed) return;
      close();
      void (async () => {
        // etcd 3.4 cancels a watch that fell behind a compaction with an empty reason: ask it.
        let compacted = isCompactedError(e);
        if (!compacted) {
          try {
            await store.etcd.checkRevision(progress);
          } catch (x) {
            compacted = isCompactedError(x);
          }
        }
        sink.send(
          compacted
            ? expired(`too old resource version: ${progress}`)
            : {
                type: "ERROR",
                object: new ApiError("InternalError", `etcd watch ended: ${e.message}`).status(),
              },
        );
        sink.end();
      })();
    },
  });
  if (o.bookmarks) timer = setInterval(() => !closed && bookmark(progress), o.bookmarkIntervalMs);
  return close;
}
