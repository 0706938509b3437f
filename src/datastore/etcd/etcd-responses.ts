import { ProtobufReader } from "./protobuf-reader.ts";

// Field numbers from etcd's api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto (v3.4).

/** One key as etcd holds it. Revisions are decimal strings (etcd's int64s). */
export interface KeyValue {
  key: Uint8Array;
  value: Uint8Array;
  createRevision: string;
  modRevision: string;
}
export interface RangeResponse {
  /** The revision the range was read at (etcd's header revision). */
  revision: string;
  kvs: KeyValue[];
  more: boolean;
}
export interface DeleteRangeResponse {
  revision: string;
  deleted: string;
}
export interface TxnResponse {
  revision: string;
  succeeded: boolean;
  /** The responses of the branch that ran; only range answers are kept (what tartan reads). */
  ranges: RangeResponse[];
}
export interface WatchEventMessage {
  type: "put" | "delete";
  kv: KeyValue;
  prevKv?: KeyValue;
}
export interface WatchResponse {
  revision: string;
  watchId: string;
  created: boolean;
  canceled: boolean;
  compactRevision: string;
  cancelReason: string;
  events: WatchEventMessage[];
}

const text = new TextDecoder();
const EMPTY = new Uint8Array(0);

function headerRevision(b: Uint8Array): string {
  const r = new ProtobufReader(b);
  while (r.next()) if (r.field === 3) return r.decimal();
  return "0";
}

function keyValue(b: Uint8Array): KeyValue {
  const kv: KeyValue = { key: EMPTY, value: EMPTY, createRevision: "0", modRevision: "0" };
  const r = new ProtobufReader(b);
  while (r.next()) {
    if (r.field === 1) kv.key = r.bytes();
    else if (r.field === 2) kv.createRevision = r.decimal();
    else if (r.field === 3) kv.modRevision = r.decimal();
    else if (r.field === 5) kv.value = r.bytes();
  }
  return kv;
}

function range(b: Uint8Array): RangeResponse {
  const res: RangeResponse = { revision: "0", kvs: [], more: false };
  const r = new ProtobufReader(b);
  while (r.next()) {
    if (r.field === 1) res.revision = headerRevision(r.bytes());
    else if (r.field === 2) res.kvs.push(keyValue(r.bytes()));
    else if (r.field === 3) res.more = r.flag();
  }
  return res;
}

function event(b: Uint8Array): WatchEventMessage {
  const e: WatchEventMessage = { type: "put", kv: keyValue(EMPTY) };
  const r = new ProtobufReader(b);
  while (r.next()) {
    if (r.field === 1) e.type = r.varint === 1 ? "delete" : "put";
    else if (r.field === 2) e.kv = keyValue(r.bytes());
    else if (r.field === 3) e.prevKv = keyValue(r.bytes());
  }
  return e;
}

/** Decoders of the etcd v3 answers tartan reads. */
export const etcdResponse = {
  range,
  deleteRange(b: Uint8Array): DeleteRangeResponse {
    const res: DeleteRangeResponse = { revision: "0", deleted: "0" };
    const r = new ProtobufReader(b);
    while (r.next()) {
      if (r.field === 1) res.revision = headerRevision(r.bytes());
      else if (r.field === 2) res.deleted = r.decimal();
    }
    return res;
  },
  txn(b: Uint8Array): TxnResponse {
    const res: TxnResponse = { revision: "0", succeeded: false, ranges: [] };
    const r = new ProtobufReader(b);
    while (r.next()) {
      if (r.field === 1) res.revision = headerRevision(r.bytes());
      else if (r.field === 2) res.succeeded = r.flag();
      else if (r.field === 3) {
        const op = new ProtobufReader(r.bytes());
        while (op.next()) if (op.field === 1) res.ranges.push(range(op.bytes()));
      }
    }
    return res;
  },
  /** Any answer's header revision (compaction, put). */
  revision(b: Uint8Array): string {
    const r = new ProtobufReader(b);
    while (r.next()) if (r.field === 1) return headerRevision(r.bytes());
    return "0";
  },
  authenticateToken(b: Uint8Array): string {
    const r = new ProtobufReader(b);
    while (r.next()) if (r.field === 2) return text.decode(r.bytes());
    return "";
  },
  watch(b: Uint8Array): WatchResponse {
    const res: WatchResponse = {
      revision: "0",
      watchId: "0",
      created: false,
      canceled: false,
      compactRevision: "0",
      cancelReason: "",
      events: [],
    };
    const r = new ProtobufReader(b);
    while (r.next()) {
      if (r.field === 1) res.revision = headerRevision(r.bytes());
      else if (r.field === 2) res.watchId = r.decimal();
      else if (r.field === 3) res.created = r.flag();
      else if (r.field === 4) res.canceled = r.flag();
      else if (r.field === 5) res.compactRevision = r.decimal();
      else if (r.field === 6) res.cancelReason = text.decode(r.bytes());
      else if (r.field === 11) res.events.push(event(r.bytes()));
    }
    return res;
  },
} as const;
