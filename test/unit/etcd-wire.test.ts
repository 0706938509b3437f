// tartan's hand-written etcd messages (src/datastore/etcd/etcd-requests.ts, etcd-responses.ts)
// against an independent encoder: protobufjs with etcd's own .proto files (shipped with the etcd3
// dev dependency). Requests we encode must read back as etcd reads them; answers etcd encodes
// must read as it meant them. Also the gRPC framing across arbitrary chunk boundaries.
import { describe, expect, test } from "bun:test";
import { dirname, join } from "node:path";
import fc from "fast-check";
import protobuf from "protobufjs";
import { etcdRequest } from "../../src/datastore/etcd/etcd-requests.ts";
import { etcdResponse } from "../../src/datastore/etcd/etcd-responses.ts";
import { GrpcError } from "../../src/datastore/etcd/grpc-error.ts";
import { GrpcMessageReader, grpcFrame } from "../../src/datastore/etcd/grpc-message-reader.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";

const protoDir = join(dirname(require.resolve("etcd3/package.json")), "proto");
const root = new protobuf.Root().loadSync(join(protoDir, "rpc.proto"), { keepCase: true });
const T = (name: string) => root.lookupType(`etcdserverpb.${name}`);
const asObject = (type: string, b: Uint8Array) =>
  T(type).toObject(T(type).decode(b), {
    longs: String,
    enums: String,
    bytes: String,
    defaults: false,
    oneofs: true,
  });
const encode = (type: string, o: object) => T(type).encode(T(type).create(o)).finish();
const b64 = (s: string) => Buffer.from(s).toString("base64");
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("etcd requests, read by etcd's own schema", () => {
  test("a range with an end, a limit, a revision and keys only", () => {
    const o = asObject(
      "RangeRequest",
      etcdRequest.range({
        key: "/tartan/Pod/",
        rangeEnd: "/tartan/Pod0",
        limit: 500,
        revision: "123456789012",
        keysOnly: true,
      }),
    );
    expect(o).toEqual({
      key: b64("/tartan/Pod/"),
      range_end: b64("/tartan/Pod0"),
      limit: "500",
      revision: "123456789012",
      keys_only: true,
    });
  });

  test("a plain get leaves every default out", () => {
    expect(asObject("RangeRequest", etcdRequest.range({ key: "/a" }))).toEqual({ key: b64("/a") });
  });

  test("create: a compare on create_revision 0 is present (a oneof member set to zero)", () => {
    const o = asObject(
      "TxnRequest",
      etcdRequest.txn({
        compare: [{ key: "/k", target: "create", revision: "0" }],
        success: [{ put: { key: "/k", value: '{"a":"é"}' } }],
      }),
    );
    expect(o).toEqual({
      compare: [{ target: "Create", key: b64("/k"), create_revision: "0", target_union: "create_revision" }],
      success: [{ request_put: { key: b64("/k"), value: b64('{"a":"é"}') }, request: "request_put" }],
    });
  });

  test("update and delete: a compare on mod_revision, with a range in the failure branch", () => {
    const o = asObject(
      "TxnRequest",
      etcdRequest.txn({
        compare: [{ key: "/k", target: "mod", revision: "42" }],
        success: [{ deleteRange: { key: "/k" } }],
        failure: [{ range: { key: "/k" } }],
      }),
    );
    expect(o).toEqual({
      compare: [{ target: "Mod", key: b64("/k"), mod_revision: "42", target_union: "mod_revision" }],
      success: [{ request_delete_range: { key: b64("/k") }, request: "request_delete_range" }],
      failure: [{ request_range: { key: b64("/k") }, request: "request_range" }],
    });
  });

  test("a watch create with bytes keys, a start revision and previous values", () => {
    const end = new Uint8Array([0x2f, 0x61, 0xff]);
    const o = asObject(
      "WatchRequest",
      etcdRequest.watchCreate({
        key: "/a",
        rangeEnd: end,
        startRevision: "7",
        prevKv: true,
        progressNotify: true,
      }),
    );
    expect(o).toEqual({
      create_request: {
        key: b64("/a"),
        range_end: Buffer.from(end).toString("base64"),
        start_revision: "7",
        progress_notify: true,
        prev_kv: true,
      },
      request_union: "create_request",
    });
  });

  test("compaction, delete range and authenticate", () => {
    expect(asObject("CompactionRequest", etcdRequest.compaction("99", true))).toEqual({
      revision: "99",
      physical: true,
    });
    expect(asObject("DeleteRangeRequest", etcdRequest.deleteRange({ key: "/x" }))).toEqual({
      key: b64("/x"),
    });
    expect(asObject("AuthenticateRequest", etcdRequest.authenticate("tartan", "pw"))).toEqual({
      name: "tartan",
      password: "pw",
    });
  });

  test("a long request grows its buffer and stays exact", () => {
    const value = "v".repeat(100_000);
    const o = asObject(
      "TxnRequest",
      etcdRequest.txn({ compare: [], success: [{ put: { key: "/big", value } }] }),
    );
    expect(o.success[0].request_put.value).toBe(b64(value));
  });
});

describe("etcd answers, encoded by etcd's own schema", () => {
  const kv = (key: string, value: string, create: string, mod: string) => ({
    key: Buffer.from(key),
    value: Buffer.from(value),
    create_revision: create,
    mod_revision: mod,
    version: "1",
  });

  test("a range page: header revision, keys, values, revisions, more", () => {
    const b = encode("RangeResponse", {
      header: { cluster_id: "1", member_id: "2", revision: "9007199254740993", raft_term: "3" },
      kvs: [kv("/a", '{"x":1}', "5", "6"), kv("/b", "", "7", "7")],
      more: true,
      count: "10",
    });
    const r = etcdResponse.range(b);
    expect(r.revision).toBe("9007199254740993"); // above 2^53: kept exact as a string
    expect(r.more).toBe(true);
    expect(r.kvs.map((k) => [text(k.key), text(k.value), k.createRevision, k.modRevision])).toEqual([
      ["/a", '{"x":1}', "5", "6"],
      ["/b", "", "7", "7"],
    ]);
  });

  test("a txn: succeeded, and the failure branch's range", () => {
    const failed = etcdResponse.txn(
      encode("TxnResponse", {
        header: { revision: "20" },
        succeeded: false,
        responses: [{ response_range: { header: { revision: "20" }, kvs: [kv("/k", "v", "3", "11")] } }],
      }),
    );
    expect(failed.succeeded).toBe(false);
    expect(failed.revision).toBe("20");
    expect(failed.ranges[0]?.kvs[0]?.modRevision).toBe("11");
    const ok = etcdResponse.txn(
      encode("TxnResponse", {
        header: { revision: "21" },
        succeeded: true,
        responses: [{ response_put: {} }],
      }),
    );
    expect(ok).toEqual({ revision: "21", succeeded: true, ranges: [] });
  });

  test("delete range, authenticate, a bare header", () => {
    expect(
      etcdResponse.deleteRange(encode("DeleteRangeResponse", { header: { revision: "4" }, deleted: "1" })),
    ).toEqual({
      revision: "4",
      deleted: "1",
    });
    expect(etcdResponse.authenticateToken(encode("AuthenticateResponse", { token: "tok.123" }))).toBe(
      "tok.123",
    );
    expect(etcdResponse.revision(encode("CompactionResponse", { header: { revision: "77" } }))).toBe("77");
  });

  test("watch answers: created, events with previous values, and a cancel for compaction", () => {
    const created = etcdResponse.watch(
      encode("WatchResponse", { header: { revision: "30" }, watch_id: "0", created: true }),
    );
    expect(created.created).toBe(true);
    expect(created.events).toEqual([]);
    const events = etcdResponse.watch(
      encode("WatchResponse", {
        header: { revision: "32" },
        events: [
          { type: 0, kv: kv("/a", "1", "31", "31") },
          {
            type: 1,
            kv: { key: Buffer.from("/b"), mod_revision: "32" },
            prev_kv: kv("/b", "old", "10", "12"),
          },
        ],
      }),
    );
    expect(
      events.events.map((e) => [e.type, text(e.kv.key), e.kv.modRevision, e.prevKv && text(e.prevKv.value)]),
    ).toEqual([
      ["put", "/a", "31", undefined],
      ["delete", "/b", "32", "old"],
    ]);
    const cancelled = etcdResponse.watch(
      encode("WatchResponse", {
        header: { revision: "40" },
        canceled: true,
        compact_revision: "35",
        cancel_reason: "",
      }),
    );
    expect([cancelled.canceled, cancelled.compactRevision]).toEqual([true, "35"]);
  });

  test("a cut answer is refused as unreadable, not half-read", () => {
    const b = encode("RangeResponse", {
      header: { revision: "5" },
      kvs: [kv("/a", "x".repeat(50), "1", "1")],
    });
    for (const cut of [b.length - 1, b.length - 30, 3]) {
      let err: unknown;
      try {
        etcdResponse.range(b.subarray(0, cut));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TartanError);
      expect((err as TartanError).code).toBe("datastore-unavailable");
      expect((err as TartanError).message).toContain("cannot read");
    }
  });
});

describe("gRPC framing", () => {
  test("messages split at any chunk boundaries come out whole and in order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (messages, cuts) => {
          const wire = Buffer.concat(messages.map(grpcFrame));
          const reader = new GrpcMessageReader();
          const out: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < wire.length; i++) {
            const n = cuts[i % cuts.length]!;
            reader.push(wire.subarray(at, at + n), (m) => out.push(Uint8Array.from(m)));
            at += n;
          }
          expect(out.map((m) => Buffer.from(m).toString("hex"))).toEqual(
            messages.map((m) => Buffer.from(m).toString("hex")),
          );
        },
      ),
    );
  });

  test("a compressed message (never asked for) is refused", () => {
    const f = grpcFrame(new Uint8Array([1, 2, 3]));
    f[0] = 1;
    expect(() => new GrpcMessageReader().push(f, () => {})).toThrow(GrpcError);
  });
});
