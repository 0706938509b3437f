import { ProtobufWriter } from "./protobuf-writer.ts";

// Field numbers from etcd's api/etcdserverpb/rpc.proto (v3.4; stable since v3.0).

/** A key or range end: a string is sent as UTF-8, bytes as they are. */
export type EtcdKey = string | Uint8Array;

export interface RangeRequest {
  key: EtcdKey;
  rangeEnd?: EtcdKey;
  limit?: number;
  /** Read at this revision (decimal string); the latest when absent. */
  revision?: string;
  keysOnly?: boolean;
}
export interface PutRequest {
  key: EtcdKey;
  value: EtcdKey;
}
export interface DeleteRangeRequest {
  key: EtcdKey;
  rangeEnd?: EtcdKey;
}
/** `target` of the key equals `revision` (create: 0 means "does not exist"). */
export interface Compare {
  key: EtcdKey;
  target: "create" | "mod";
  revision: string;
}
export type RequestOp = { range: RangeRequest } | { put: PutRequest } | { deleteRange: DeleteRangeRequest };
export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure?: RequestOp[];
}
export interface WatchCreateRequest {
  key: EtcdKey;
  rangeEnd?: EtcdKey;
  startRevision: string;
  prevKv: boolean;
  /** Ask etcd for progress notifications while nothing changes (etcd's --experimental-watch-progress-notify-interval). */
  progressNotify?: boolean;
}

/** The smallest key greater than every key starting with `prefix` (etcd's range_end idiom). */
export function prefixRangeEnd(prefix: string): Uint8Array {
  const b = new TextEncoder().encode(prefix);
  b[b.length - 1]! += 1;
  return b;
}

function range(w: ProtobufWriter, r: RangeRequest): void {
  w.bytes(1, r.key).bytes(2, r.rangeEnd).uint(3, r.limit).uint(4, r.revision).uint(8, r.keysOnly);
}
function put(w: ProtobufWriter, r: PutRequest): void {
  w.bytes(1, r.key).bytes(2, r.value);
}
function deleteRange(w: ProtobufWriter, r: DeleteRangeRequest): void {
  w.bytes(1, r.key).bytes(2, r.rangeEnd);
}
function op(w: ProtobufWriter, o: RequestOp): void {
  if ("range" in o) w.message(1, (m) => range(m, o.range));
  else if ("put" in o) w.message(2, (m) => put(m, o.put));
  else w.message(3, (m) => deleteRange(m, o.deleteRange));
}
function compare(w: ProtobufWriter, c: Compare): void {
  // result Equal (0) is the default; target Create = 1, Mod = 2. The revision goes in
  // create_revision (5) or mod_revision (6) and is written even when 0: a oneof member is
  // present when set, and "create_revision == 0" is exactly "the key does not exist".
  w.uint(2, c.target === "create" ? 1 : 2).bytes(3, c.key);
  w.uint(c.target === "create" ? 5 : 6, c.revision, true);
}

/** The etcd v3 requests tartan sends, encoded as Protocol Buffers messages. */
export const etcdRequest = {
  range: (r: RangeRequest) => build((w) => range(w, r)),
  deleteRange: (r: DeleteRangeRequest) => build((w) => deleteRange(w, r)),
  txn: (t: TxnRequest) =>
    build((w) => {
      for (const c of t.compare) w.message(1, (m) => compare(m, c));
      for (const o of t.success) w.message(2, (m) => op(m, o));
      for (const o of t.failure ?? []) w.message(3, (m) => op(m, o));
    }),
  compaction: (revision: string, physical: boolean) => build((w) => w.uint(1, revision).uint(2, physical)),
  authenticate: (name: string, password: string) => build((w) => w.bytes(1, name).bytes(2, password)),
  /** A WatchRequest holding a create_request. */
  watchCreate: (r: WatchCreateRequest) =>
    build((w) =>
      w.message(1, (m) =>
        m
          .bytes(1, r.key)
          .bytes(2, r.rangeEnd)
          .uint(3, r.startRevision)
          .uint(4, r.progressNotify)
          .uint(6, r.prevKv),
      ),
    ),
} as const;

function build(fill: (w: ProtobufWriter) => void): Uint8Array {
  const w = new ProtobufWriter();
  fill(w);
  return w.finish();
}
