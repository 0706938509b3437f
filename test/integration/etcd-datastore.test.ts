// The Datastore contract and the outage behaviour against a real etcd, started by the harness
// inside the private namespace scripts/test.sh runs this stage in (skipped anywhere else).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import type { WatchEvent } from "../../src/datastore/datastore.ts";
import { EtcdDatastore } from "../../src/datastore/etcd/etcd-datastore.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import { KINDS } from "../../src/model/cluster-resources.ts";
import { codeOf, datastoreContract, node } from "../contract/datastore-contract.ts";
import { type EtcdServer, etcdSkipReason, startEtcd } from "../harness/etcd.ts";
import { eventually } from "../harness/eventually.ts";

if (etcdSkipReason) console.warn(`etcd datastore tests skipped: ${etcdSkipReason}`);
const skip = etcdSkipReason;

let etcd: EtcdServer | undefined;
beforeAll(async () => {
  if (!skip) etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.cleanup();
});

/** Each test gets a prefix of its own on the shared server, so tests see only their own keys. */
const freshPrefix = () => `/tt-t-${randomBytes(4).toString("hex")}`;

datastoreContract(
  "etcd",
  async () => {
    const ds = new EtcdDatastore({ endpoints: [etcd!.endpoint], prefix: freshPrefix() });
    return { ds, compact: (r) => ds.compact(r), cleanup: () => ds.close() };
  },
  { skip },
);

describe.skipIf(skip !== undefined)("etcd datastore lists", () => {
  test("a list is read in pages at one revision (gRPC refuses answers above 4 MB)", async () => {
    const ds = new EtcdDatastore({ endpoints: [etcd!.endpoint], prefix: freshPrefix(), listPageSize: 4 });
    try {
      for (let i = 0; i < 10; i++) await ds.create(node(`n${i}`));
      const all = await ds.list(KINDS.node);
      expect(all.items.map((o) => o.metadata.name)).toEqual(Array.from({ length: 10 }, (_, i) => `n${i}`));
      // The revision is the snapshot's: an object made afterwards comes by watch from there.
      await ds.create(node("later"));
      const events: WatchEvent[] = [];
      const w = ds.watch(KINDS.node, all.revision, (e) => events.push(e));
      await eventually("1 watch event", () => events.length === 1, { timeoutMs: 5000, intervalMs: 20 });
      expect(events[0]?.object.metadata.name).toBe("later");
      w.close();
    } finally {
      await ds.close();
    }
  });
});

describe.skipIf(skip !== undefined)("etcd datastore lists, pipelined pages", () => {
  test("the next page is asked for while one is decoded: whole pages, none, and a write during the list", async () => {
    const prefix = freshPrefix();
    const ds = new EtcdDatastore({ endpoints: [etcd!.endpoint], prefix, listPageSize: 4 });
    const writer = new EtcdDatastore({ endpoints: [etcd!.endpoint], prefix });
    try {
      expect((await ds.list(KINDS.node)).items).toEqual([]);
      for (let i = 0; i < 8; i++) await ds.create(node(`n${i}`));
      // Exactly two pages: the second says there is no more.
      expect((await ds.list(KINDS.node)).items.map((o) => o.metadata.name)).toEqual(
        Array.from({ length: 8 }, (_, i) => `n${i}`),
      );
      // Writes racing a list land after its snapshot, never in a later page of it.
      const listing = ds.list(KINDS.node);
      const writes = Promise.all([writer.create(node("n3a")), writer.create(node("n7a"))]);
      const [all] = await Promise.all([listing, writes]);
      const names = all.items.map((o) => o.metadata.name);
      const rvs = all.items.map((o) => Number(o.metadata.resourceVersion));
      expect(Math.max(...rvs)).toBeLessThanOrEqual(Number(all.revision));
      for (const n of ["n3a", "n7a"]) {
        const stored = await ds.get(KINDS.node, n);
        expect(names.includes(n)).toBe(Number(stored!.metadata.resourceVersion) <= Number(all.revision));
      }
    } finally {
      await ds.close();
      await writer.close();
    }
  });
});

describe.skipIf(skip !== undefined)("etcd datastore outages", () => {
  test("openDatastore opens the etcd adapter", async () => {
    const ds = await openDatastore({ type: "etcd", endpoints: [etcd!.endpoint], prefix: freshPrefix() });
    try {
      await ds.create(node("a"));
      expect((await ds.list(KINDS.node)).items.map((o) => o.metadata.name)).toEqual(["a"]);
    } finally {
      await ds.close();
    }
  });

  test("an endpoint where nothing listens: 'the datastore at URL is unreachable', no raw gRPC words", async () => {
    // Port 1 on this test's own loopback (the stage runs in a private namespace): nothing listens.
    const url = "http://127.0.0.1:1";
    const ds = new EtcdDatastore({ endpoints: [url], prefix: freshPrefix(), timeoutMs: 1000 });
    try {
      for (const op of [
        () => ds.list(KINDS.node),
        () => ds.get(KINDS.node, "a"),
        () => ds.create(node("a")),
      ]) {
        const e = (await op().then(
          () => undefined,
          (x: unknown) => x,
        )) as { code?: string; message?: string; hint?: string } | undefined;
        expect(e?.code).toBe("datastore-unavailable");
        expect(e?.message).toStartWith(`the datastore at ${url} is unreachable: connection refused`);
        expect(e?.message).not.toContain("UNAVAILABLE");
        expect(e?.hint).toContain("--datastore");
      }
    } finally {
      await ds.close();
    }
  });

  test("calls fail fast with datastore-unavailable while etcd is down and work once it is back", async () => {
    const ds = new EtcdDatastore({ endpoints: [etcd!.endpoint], prefix: freshPrefix(), timeoutMs: 1000 });
    try {
      const a = await ds.create(node("a"));
      await etcd!.stop();
      for (const op of [
        () => ds.get(KINDS.node, "a"),
        () => ds.list(KINDS.node),
        () => ds.create(node("b")),
        () => ds.update(a),
        () => ds.delete(KINDS.node, "a"),
      ]) {
        const t = performance.now();
        expect(await codeOf(op())).toBe("datastore-unavailable");
        expect(performance.now() - t).toBeLessThan(2500);
      }
      await etcd!.start();
      // gRPC reconnects within its (shortened) backoff; the first calls may still fail.
      const got = await eventually("a get after the restart", () => ds.get(KINDS.node, "a"), {
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      expect(got).toEqual(a);
      await ds.create(node("b"));
      expect((await ds.list(KINDS.node)).items.length).toBe(2);
    } finally {
      await etcd!.start();
      await ds.close();
    }
  });

  test("a watch delivers every key of a multi-key etcd transaction (one revision, several events)", async () => {
    const prefix = freshPrefix();
    const ds = new EtcdDatastore({ endpoints: [etcd!.endpoint], prefix });
    const { Etcd3 } = await import("etcd3");
    const raw = new Etcd3({ hosts: [etcd!.endpoint] });
    const events: WatchEvent[] = [];
    try {
      const l = await ds.list(KINDS.node);
      const h = ds.watch(KINDS.node, l.revision, (e) => events.push(e));
      const names = ["m1", "m2", "m3"];
      await raw.kv.txn({
        compare: [],
        success: names.map((n) => ({
          request_put: {
            key: Buffer.from(`${prefix}/${KINDS.node}/_/${n}`),
            value: Buffer.from(JSON.stringify(node(n))),
          },
        })),
      });
      await eventually("at least 3 watch events", () => events.length >= 3, {
        timeoutMs: 5000,
        intervalMs: 20,
      });
      await Bun.sleep(100);
      h.close();
      expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(
        names.map((n) => `ADDED ${n}`),
      );
    } finally {
      raw.close();
      await ds.close();
    }
  });

  test("a watch survives an etcd restart and resumes without loss or repeats", async () => {
    const prefix = freshPrefix();
    const ds = new EtcdDatastore({ endpoints: [etcd!.endpoint], prefix });
    const writer = new EtcdDatastore({ endpoints: [etcd!.endpoint], prefix });
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    try {
      const l = await ds.list(KINDS.node);
      const h = ds.watch(
        KINDS.node,
        l.revision,
        (e) => events.push(e),
        (e) => errors.push(e),
      );
      await writer.create(node("before"));
      await eventually("1 watch event", () => events.length === 1, { timeoutMs: 5000, intervalMs: 20 });
      await etcd!.stop();
      await etcd!.start();
      // Written after the restart: reaches the watch once its stream has reconnected.
      await eventually("a write after the restart", () => writer.create(node("after")), {
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      await writer.delete(KINDS.node, "before");
      await eventually("at least 3 watch events", () => events.length >= 3, {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      await Bun.sleep(200);
      h.close();
      expect(errors).toEqual([]);
      expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
        "ADDED before",
        "ADDED after",
        "DELETED before",
      ]);
    } finally {
      await etcd!.start();
      await ds.close();
      await writer.close();
    }
  });

  test("writes before and after a restart reach a running watch exactly once, in order", async () => {
    const prefix = freshPrefix();
    const ds = new EtcdDatastore({ endpoints: [etcd!.endpoint], prefix });
    const writer = new EtcdDatastore({ endpoints: [etcd!.endpoint], prefix });
    try {
      const l = await ds.list(KINDS.node);
      for (let i = 0; i < 5; i++) await writer.create(node(`n${i}`));
      // Writes while the watcher is down, then a restart: all of them arrive exactly once.
      const events: WatchEvent[] = [];
      const h = ds.watch(KINDS.node, l.revision, (e) => events.push(e));
      await eventually("5 watch events", () => events.length === 5, { timeoutMs: 5000, intervalMs: 20 });
      await etcd!.stop();
      await etcd!.start();
      let i = 5;
      const writeRest = async () => {
        for (; i < 8; i++) await writer.create(node(`n${i}`));
      };
      await eventually("writes n5..n7 after the restart", writeRest, {
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      await eventually("at least 8 watch events", () => events.length >= 8, {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      await Bun.sleep(200);
      h.close();
      expect(events.map((e) => e.object.metadata.name)).toEqual(Array.from({ length: 8 }, (_, i) => `n${i}`));
    } finally {
      await etcd!.start();
      await ds.close();
      await writer.close();
    }
  });
});
