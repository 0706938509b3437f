// The behaviour every Datastore adapter must share, registered against the memory store and the
// local SQLite store (test/unit) and a real etcd (test/integration), with the same expectations.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Datastore, WatchEvent } from "../../src/datastore/datastore.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { KINDS, type NodeResource } from "../../src/model/cluster-resources.ts";
import { type Resource, TARTAN_API_VERSION } from "../../src/model/resource.ts";
import { eventually } from "../harness/eventually.ts";

export interface DatastoreFixture {
  ds: Datastore;
  /** Drops the watch history up to and including `revision`. */
  compact(revision: string): Promise<void>;
  cleanup(): Promise<void>;
}

export function node(name: string, address = "198.18.0.1"): NodeResource {
  return {
    apiVersion: TARTAN_API_VERSION,
    kind: KINDS.node,
    metadata: { name },
    spec: { underlayAddress: address, underlaySubnet: "198.18.0.0/15" },
  };
}

export function pod(namespace: string, name: string): Resource {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace }, spec: { nodeName: "n1" } };
}

/** The error code a promise rejects with ("" when it fulfils). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "";
  } catch (e) {
    return e instanceof TartanError ? e.code : `not a TartanError: ${String(e)}`;
  }
}

/** Watches until `n` events arrived (or `ms` passed), then `settleMs` more to catch extras. */
export async function collect(
  ds: Datastore,
  kind: string,
  from: string,
  n: number,
  act: () => Promise<void> = async () => {},
  opts: { ms?: number; settleMs?: number } = {},
): Promise<{ events: WatchEvent[]; errors: Error[] }> {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  const h = ds.watch(
    kind,
    from,
    (e) => events.push(e),
    (e) => errors.push(e),
  );
  try {
    await act();
    await eventually("watch events", () => events.length >= n || errors.length > 0, {
      timeoutMs: opts.ms ?? 5000,
      intervalMs: 10,
      // The caller's expect() on the events gives the better message.
      onTimeout: "last",
    });
    await Bun.sleep(opts.settleMs ?? 150);
  } finally {
    h.close();
  }
  return { events, errors };
}

const view = (e: WatchEvent) => `${e.type} ${e.object.metadata.name}`;

export function datastoreContract(
  label: string,
  factory: () => Promise<DatastoreFixture>,
  opts: { skip?: string } = {},
): void {
  describe.skipIf(opts.skip !== undefined)(`Datastore contract: ${label}`, () => {
    let fx: DatastoreFixture;
    let ds: Datastore;
    beforeEach(async () => {
      fx = await factory();
      ds = fx.ds;
    });
    afterEach(async () => {
      await fx?.cleanup();
    });

    test("create, get and list; the store sets resourceVersion, uid and creationTimestamp", async () => {
      const a = await ds.create(node("a"));
      const b = await ds.create(node("b", "198.18.0.2"));
      expect(a.metadata.resourceVersion).toMatch(/^[0-9]+$/);
      expect(BigInt(b.metadata.resourceVersion!)).toBeGreaterThan(BigInt(a.metadata.resourceVersion!));
      expect(a.metadata.uid).toBeTruthy();
      expect(a.metadata.creationTimestamp).toBeTruthy();
      expect(await ds.get(KINDS.node, "a")).toEqual(a);
      expect(await ds.get(KINDS.node, "missing")).toBeUndefined();
      const l = await ds.list(KINDS.node);
      expect(l.items.map((o) => o.metadata.name)).toEqual(["a", "b"]);
      expect(l.items[1]).toEqual(b);
      expect(BigInt(l.revision)).toBeGreaterThanOrEqual(BigInt(b.metadata.resourceVersion!));
      expect((await ds.list(KINDS.ipPool)).items).toEqual([]);
    });

    test("the caller's object is never changed by a write", async () => {
      const obj = node("a");
      const before = structuredClone(obj);
      await ds.create(obj);
      expect(obj).toEqual(before);
    });

    test("create of an existing object is a datastore-conflict", async () => {
      await ds.create(node("a"));
      expect(await codeOf(ds.create(node("a", "198.18.0.9")))).toBe("datastore-conflict");
      expect(((await ds.get(KINDS.node, "a")) as NodeResource).spec.underlayAddress).toBe("198.18.0.1");
    });

    test("update is compare-and-swap on resourceVersion", async () => {
      const a = (await ds.create(node("a"))) as NodeResource;
      const changed = { ...a, spec: { ...a.spec, underlayAddress: "198.18.0.7" } };
      const a2 = (await ds.update(changed)) as NodeResource;
      expect(a2.spec.underlayAddress).toBe("198.18.0.7");
      expect(BigInt(a2.metadata.resourceVersion!)).toBeGreaterThan(BigInt(a.metadata.resourceVersion!));
      expect(await ds.get(KINDS.node, "a")).toEqual(a2);
      // A writer that read the old version loses.
      expect(await codeOf(ds.update({ ...a, spec: { ...a.spec, underlayAddress: "198.18.0.8" } }))).toBe(
        "datastore-conflict",
      );
      expect(((await ds.get(KINDS.node, "a")) as NodeResource).spec.underlayAddress).toBe("198.18.0.7");
      const gone = node("nobody");
      gone.metadata.resourceVersion = a2.metadata.resourceVersion;
      expect(await codeOf(ds.update(gone))).toBe("datastore-not-found");
      const { resourceVersion: _, ...noVersion } = a2.metadata;
      expect(await codeOf(ds.update({ ...a2, metadata: noVersion }))).toBe("datastore-invalid");
    });

    test("delete with a matching, a stale and no resourceVersion; delete of a missing object", async () => {
      const a = (await ds.create(node("a"))) as NodeResource;
      // A real change: the Kubernetes API keeps the version of a write that changes nothing.
      const a2 = await ds.update({ ...a, spec: { ...a.spec, underlayAddress: "198.18.0.9" } });
      expect(await codeOf(ds.delete(KINDS.node, "a", undefined, a.metadata.resourceVersion))).toBe(
        "datastore-conflict",
      );
      expect(await ds.get(KINDS.node, "a")).toBeDefined();
      await ds.delete(KINDS.node, "a", undefined, a2.metadata.resourceVersion);
      expect(await ds.get(KINDS.node, "a")).toBeUndefined();
      await ds.create(node("b"));
      await ds.delete(KINDS.node, "b");
      expect(await ds.get(KINDS.node, "b")).toBeUndefined();
      expect(await codeOf(ds.delete(KINDS.node, "b"))).toBe("datastore-not-found");
      expect(await codeOf(ds.delete(KINDS.node, "b", undefined, a2.metadata.resourceVersion))).toBe(
        "datastore-not-found",
      );
    });

    test("watch from a list's revision sees exactly the later changes of the kind, in order", async () => {
      await ds.create(node("old"));
      const gone = await ds.create(node("gone"));
      const l = await ds.list(KINDS.node);
      const { events, errors } = await collect(ds, KINDS.node, l.revision, 3, async () => {
        const x = await ds.create(node("x"));
        await ds.create({
          apiVersion: TARTAN_API_VERSION,
          kind: KINDS.ipPool,
          metadata: { name: "p" },
          spec: { cidr: "10.244.0.0/16", blockSize: 26 },
        });
        await ds.update({ ...x, spec: { ...(x as NodeResource).spec, underlayAddress: "198.18.0.5" } });
        await ds.delete(KINDS.node, "gone");
      });
      expect(errors).toEqual([]);
      expect(events.map(view)).toEqual(["ADDED x", "MODIFIED x", "DELETED gone"]);
      const revs = events.map((e) => BigInt(e.revision));
      expect(revs[0]!).toBeGreaterThan(BigInt(l.revision));
      expect(revs[1]!).toBeGreaterThan(revs[0]!);
      expect(revs[2]!).toBeGreaterThan(revs[1]!);
      for (const e of events) expect(e.object.metadata.resourceVersion).toBe(e.revision);
      expect((events[1]!.object as NodeResource).spec.underlayAddress).toBe("198.18.0.5");
      // DELETED carries the object as it was last stored.
      expect(events[2]!.object.spec).toEqual(gone.spec);
      expect(events[2]!.object.metadata.uid).toBe(gone.metadata.uid);
    });

    test("a watch asking for deletes by identity still names the deleted object, at the delete's revision", async () => {
      await ds.create(node("gone"));
      const l = await ds.list(KINDS.node);
      const events: WatchEvent[] = [];
      const h = ds.watch(KINDS.node, l.revision, (e) => events.push(e), undefined, {
        deletedIdentityOnly: true,
      });
      try {
        await ds.delete(KINDS.node, "gone");
        await eventually("the delete event", () => events.length >= 1, { timeoutMs: 5000, intervalMs: 10 });
      } finally {
        h.close();
      }
      expect(events.map(view)).toEqual(["DELETED gone"]);
      expect(events[0]!.object.kind).toBe(KINDS.node);
      expect(events[0]!.object.metadata.resourceVersion).toBe(events[0]!.revision);
      expect(BigInt(events[0]!.revision)).toBeGreaterThan(BigInt(l.revision));
    });

    test("watch from an earlier revision replays the history after it", async () => {
      const a = (await ds.create(node("a"))) as NodeResource;
      await ds.update({ ...a, spec: { ...a.spec, underlayAddress: "198.18.0.9" } });
      await ds.delete(KINDS.node, "a");
      const { events } = await collect(ds, KINDS.node, a.metadata.resourceVersion!, 2);
      expect(events.map(view)).toEqual(["MODIFIED a", "DELETED a"]);
    });

    test("a watch delivers nothing after close", async () => {
      const l = await ds.list(KINDS.node);
      const seen: WatchEvent[] = [];
      const h = ds.watch(KINDS.node, l.revision, (e) => seen.push(e));
      h.close();
      await ds.create(node("a"));
      await Bun.sleep(200);
      expect(seen).toEqual([]);
    });

    test("20 concurrent creators of the same name: exactly one wins", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => ds.create(node("contested", `198.18.1.${i + 1}`))),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won.length).toBe(1);
      for (const r of results) {
        if (r.status === "rejected") expect((r.reason as TartanError).code).toBe("datastore-conflict");
      }
      const stored = (await ds.get(KINDS.node, "contested")) as NodeResource;
      expect(stored).toEqual((won[0] as PromiseFulfilledResult<Resource>).value as NodeResource);
      expect((await ds.list(KINDS.node)).items.length).toBe(1);
    });

    test("namespaced and cluster-scoped objects of the same name are distinct", async () => {
      await ds.create(pod("ns1", "a"));
      await ds.create(pod("ns2", "a"));
      await ds.create(node("a"));
      expect((await ds.get("Pod", "a", "ns1"))?.metadata.namespace).toBe("ns1");
      expect((await ds.get("Pod", "a", "ns2"))?.metadata.namespace).toBe("ns2");
      expect(await ds.get("Pod", "a")).toBeUndefined();
      expect(await codeOf(ds.create(pod("ns1", "a")))).toBe("datastore-conflict");
      const all = await ds.list("Pod");
      expect(all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(["ns1/a", "ns2/a"]);
      expect((await ds.list("Pod", "ns1")).items.map((o) => o.metadata.namespace)).toEqual(["ns1"]);
      expect((await ds.list("Pod", "ns3")).items).toEqual([]);
      await ds.delete("Pod", "a", "ns1");
      expect(await ds.get("Pod", "a", "ns2")).toBeDefined();
      expect(await ds.get(KINDS.node, "a")).toBeDefined();
      // An empty namespace is cluster-scoped.
      expect(await codeOf(ds.create({ ...node("a"), metadata: { name: "a", namespace: "" } }))).toBe(
        "datastore-conflict",
      );
    });

    test("malformed objects are rejected with datastore-invalid and nothing is stored", async () => {
      const bad: unknown[] = [
        null,
        { ...node("a"), spec: undefined },
        { ...node("a"), kind: "node" },
        { ...node("a"), kind: "No/de" },
        { ...node("a"), apiVersion: "" },
        { ...node("a"), metadata: { name: "A_b" } },
        { ...node("a"), metadata: { name: "x/y" } },
        { ...node("a"), metadata: { name: "" } },
        { ...node("a"), metadata: { name: "a", namespace: "Bad/ns" } },
        { ...node("a"), metadata: {} },
      ];
      for (const obj of bad) expect(await codeOf(ds.create(obj as Resource))).toBe("datastore-invalid");
      expect(await codeOf(ds.get(KINDS.node, "x/y"))).toBe("datastore-invalid");
      expect(await codeOf(ds.delete(KINDS.node, "../x"))).toBe("datastore-invalid");
      expect((await ds.list(KINDS.node)).items).toEqual([]);
    });

    test("a watch from a compacted revision fails with datastore-compacted", async () => {
      const a = await ds.create(node("a"));
      await ds.update(a);
      const b = await ds.create(node("b"));
      await fx.compact(b.metadata.resourceVersion!);
      const { events, errors } = await collect(ds, KINDS.node, a.metadata.resourceVersion!, 1);
      expect(events).toEqual([]);
      expect(errors.map((e) => (e as TartanError).code)).toEqual(["datastore-compacted"]);
      // From the compaction point on, the watch works.
      const ok = await collect(ds, KINDS.node, b.metadata.resourceVersion!, 1, async () => {
        await ds.delete(KINDS.node, "a");
      });
      expect(ok.errors).toEqual([]);
      expect(ok.events.map(view)).toEqual(["DELETED a"]);
    });
  });
}
