// Values written into a real etcd around tartan (not JSON, JSON without metadata, a Pod with a
// newline in its name) must neither fail the adapter's list and watch nor reach the agent's
// mirror: the adapter keeps an undecodable value's identity from its key, and the mirror's
// ingestion validation refuses all of them while the valid Pod next to them is mirrored.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Etcd3 } from "etcd3";
import { KindMirror, type RejectedObject } from "../../src/agent/kind-mirror.ts";
import { EtcdDatastore } from "../../src/datastore/etcd/etcd-datastore.ts";
import { type EtcdServer, etcdSkipReason, startEtcd } from "../harness/etcd.ts";
import { eventually } from "../harness/eventually.ts";
import { pod } from "../harness/k8s-objects.ts";
import { isRoot } from "../harness/netns.ts";

const skip = !isRoot || etcdSkipReason !== undefined;
const PREFIX = "/poison";

describe.skipIf(skip)("poisoned values in a real etcd", () => {
  let etcd: EtcdServer;
  let raw: Etcd3;
  let ds: EtcdDatastore;
  let mirror: KindMirror | undefined;
  beforeAll(async () => {
    etcd = await startEtcd();
    raw = new Etcd3({ hosts: etcd.endpoint });
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint], prefix: PREFIX });
  });
  afterAll(async () => {
    mirror?.stop();
    await ds?.close().catch(() => {});
    raw?.close();
    await etcd?.cleanup();
  });

  test("list and watch go on; only the valid Pod is mirrored, the rest is rejected and reported", async () => {
    await ds.create(pod("prod/web", ["10.0.0.1"]));
    const evil = pod("prod/evil\nflush ruleset", ["10.0.0.66"]);
    await raw.put(`${PREFIX}/Pod/prod/notjson`).value("{not json\n");
    await raw.put(`${PREFIX}/Pod/prod/nometa`).value(JSON.stringify({ kind: "Pod", spec: {} }));
    await raw.put(`${PREFIX}/Pod/prod/evil\nflush ruleset`).value(JSON.stringify(evil));

    const listed = await ds.list("Pod");
    expect(listed.items.map((o) => o.metadata.name).sort()).toEqual(
      ["evil\nflush ruleset", "nometa", "notjson", "web"].sort(),
    );

    const rejected: RejectedObject[] = [];
    const errors: unknown[] = [];
    mirror = new KindMirror(ds, "Pod", {
      onChange: () => {},
      onError: (e) => errors.push(e),
      onRejected: (r) => rejected.push(r),
    });
    await mirror.start();
    expect([...mirror.items.keys()]).toEqual(["prod/web"]);
    expect(rejected.map((r) => r.key).sort()).toEqual(
      ["prod/evil\nflush ruleset", "prod/nometa", "prod/notjson"].sort(),
    );

    // Through the watch: a valid Pod overwritten with garbage is dropped and reported.
    await raw.put(`${PREFIX}/Pod/prod/web`).value("\u0000garbage");
    await eventually("prod/web rejected through the watch", async () => mirror!.rejected.has("prod/web"), {
      timeoutMs: 10_000,
      intervalMs: 50,
      until: (v) => v,
    });
    expect(mirror.items.size).toBe(0);
    expect(errors).toEqual([]);
  });
});
