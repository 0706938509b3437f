import type { EtcdClient } from "./etcd-client.ts";
import type { EtcdKey } from "./etcd-requests.ts";
import { etcdResponse, type WatchEventMessage } from "./etcd-responses.ts";
import type { GrpcStream } from "./grpc-connection.ts";
import { GRPC, GrpcError } from "./grpc-error.ts";

export interface EtcdWatchRange {
  key: EtcdKey;
  rangeEnd: EtcdKey;
  /** The first revision to deliver (inclusive). */
  startRevision: string;
  /** Ask etcd for each event's previous value (deletes then carry the object). */
  prevKv: boolean;
  /** Ask etcd for progress notifications (onProgress) while nothing changes. */
  progressNotify?: boolean;
}

export interface EtcdWatchHandlers {
  /** New events of one etcd response, in revision order; replays after a reconnect are dropped. */
  onEvents(events: WatchEventMessage[]): void;
  /** A response without events past the last one delivered: every change up to `revision` was sent. */
  onProgress?(revision: string): void;
  /** The watch ended for good: cancelled by etcd (compacted history, permissions). */
  /** `nextRevision`: the first revision not delivered (where a new watch would have to start). */
  onError(e: Error, nextRevision: string): void;
}

/** A stream that broke for a reason a reconnect can fix (etcd restarting, unreachable, cut). */
function transient(e: GrpcError | undefined): boolean {
  return (
    e === undefined ||
    e.code === GRPC.unavailable ||
    e.code === GRPC.deadlineExceeded ||
    e.code === GRPC.cancelled
  );
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;

/**
 * Watches a key range from a revision, for as long as the caller wants: a stream broken by an
 * etcd restart or a network cut is opened again (backoff 100 ms → 2 s) from the revision after
 * the last event delivered — not from a response header, which can run ahead of the events of a
 * catch-up — so nothing is lost; an event seen before (same revision and key: one txn writes
 * several keys at one revision) is dropped, so nothing repeats. etcd cancelling the watch ends it
 * through onError (compaction as "mvcc: required revision has been compacted"). Returns the closer.
 */
export function watchEtcd(client: EtcdClient, range: EtcdWatchRange, h: EtcdWatchHandlers): () => void {
  let closed = false;
  let stream: GrpcStream | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backoff = MIN_BACKOFF_MS;
  let last = BigInt(range.startRevision) - 1n;
  let keysAtLast = new Set<string>();
  const keyText = new TextDecoder("latin1");

  const fail = (e: Error) => {
    if (closed) return;
    closed = true;
    stream?.close();
    h.onError(e, String(last + 1n));
  };

  const onMessage = (b: Uint8Array) => {
    if (closed) return;
    let res: ReturnType<typeof etcdResponse.watch>;
    try {
      res = etcdResponse.watch(b);
    } catch (e) {
      fail(e as Error);
      return;
    }
    if (res.canceled) {
      fail(
        res.compactRevision !== "0"
          ? new GrpcError(
              GRPC.outOfRange,
              `etcdserver: mvcc: required revision has been compacted (compacted up to ${res.compactRevision})`,
            )
          : new GrpcError(GRPC.cancelled, res.cancelReason || "etcd cancelled the watch"),
      );
      return;
    }
    if (res.created) {
      backoff = MIN_BACKOFF_MS;
      return; // its header is etcd's current revision, not progress of this watch
    }
    const events: WatchEventMessage[] = [];
    for (const ev of res.events) {
      const rev = BigInt(ev.kv.modRevision);
      const key = keyText.decode(ev.kv.key);
      if (rev < last || (rev === last && keysAtLast.has(key))) continue;
      if (rev !== last) keysAtLast = new Set();
      last = rev;
      keysAtLast.add(key);
      events.push(ev);
    }
    if (events.length > 0) h.onEvents(events);
    else if (BigInt(res.revision) > last) h.onProgress?.(res.revision);
  };

  const open = () => {
    timer = undefined;
    if (closed) return;
    client
      .openWatch(
        {
          key: range.key,
          rangeEnd: range.rangeEnd,
          startRevision: String(last + 1n),
          prevKv: range.prevKv,
          progressNotify: range.progressNotify ?? false,
        },
        { onMessage, onEnd },
      )
      .then(
        (s) => {
          if (closed) s.close();
          else stream = s;
        },
        (e) => onEnd(e instanceof GrpcError ? e : new GrpcError(GRPC.unavailable, String(e))),
      );
  };

  function onEnd(e: GrpcError | undefined): void {
    stream = undefined;
    if (closed) return;
    if (e && !transient(e) && !client.forgetToken(e)) {
      fail(e);
      return;
    }
    timer = setTimeout(open, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }

  open();
  return () => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    stream?.close();
  };
}
