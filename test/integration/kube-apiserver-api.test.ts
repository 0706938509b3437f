// The stand-in Kubernetes API server's storage semantics, over plain HTTPS (what the Kubernetes
// datastore adapter relies on): resourceVersion = etcd revision, paging at one revision, watch
// from a version, 410 after compaction, bookmarks, selectors on watches, 409s, the status
// subresource, a restart mid-watch, authentication. Real etcd, private namespace only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { type EtcdServer, etcdSkipReason, startEtcd } from "../harness/etcd.ts";
import { eventually } from "../harness/eventually.ts";
import { type KubeApiServerFixture, startKubeApiServer } from "../harness/kube-apiserver.ts";

if (etcdSkipReason) console.warn(`kube-apiserver API tests skipped: ${etcdSkipReason}`);

let etcd: EtcdServer | undefined;
let kube: KubeApiServerFixture | undefined;
beforeAll(async () => {
  if (etcdSkipReason) return;
  etcd = await startEtcd();
  kube = await startKubeApiServer({ etcd, bookmarkIntervalMs: 300 });
});
afterAll(async () => {
  await kube?.cleanup();
  await etcd?.cleanup();
});

const json = (method: string, body: unknown, type = "application/json"): RequestInit => ({
  method,
  headers: { "content-type": type },
  body: JSON.stringify(body),
});
const api = (path: string, init?: RequestInit) => kube!.api(path, init);
const cm = (ns: string, name: string, labels: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns, labels },
  data: { a: "1" },
});

interface WatchEvent {
  type: string;
  object: {
    metadata: { name?: string; resourceVersion: string; annotations?: Record<string, string> };
    code?: number;
    reason?: string;
  };
}

/** Opens a watch and collects its events; `done` resolves when the server ends the stream. */
function watch(path: string) {
  const events: WatchEvent[] = [];
  const abort = new AbortController();
  const done = (async () => {
    const r = await fetch(`${kube!.url}${path}`, {
      signal: abort.signal,
      tls: {
        ca: readFileSync(kube!.caFile, "utf8"),
        cert: readFileSync(kube!.clientCertFile, "utf8"),
        key: readFileSync(kube!.clientKeyFile, "utf8"),
      },
    } as RequestInit);
    let buf = "";
    const dec = new TextDecoder();
    for await (const chunk of r.body as ReadableStream<Uint8Array>) {
      buf += dec.decode(chunk);
      let i = buf.indexOf("\n");
      while (i >= 0) {
        events.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
        i = buf.indexOf("\n");
      }
    }
    return "ended";
  })().catch(() => "aborted");
  return { events, done, stop: () => abort.abort() };
}

async function namespace(name: string): Promise<void> {
  const r = await api("/api/v1/namespaces", json("POST", { metadata: { name } }));
  expect(r.status).toBe(201);
}

describe.skipIf(etcdSkipReason !== undefined)("stand-in API server semantics", () => {
  test("resourceVersion is the etcd revision; lists page at one revision; a stale continue is 410", async () => {
    await namespace("paging");
    const rvs: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await api("/api/v1/namespaces/paging/configmaps", json("POST", cm("paging", `c${i}`)));
      expect(r.status).toBe(201);
      rvs.push(r.body.metadata.resourceVersion);
    }
    expect(rvs.map(Number)).toEqual([...rvs.map(Number)].sort((a, b) => a - b));
    expect(rvs.at(-1)).toBe(await kube!.revision());
    const p1 = await api("/api/v1/namespaces/paging/configmaps?limit=3");
    expect(p1.body.items).toHaveLength(3);
    expect(p1.body.metadata.continue).toBeTruthy();
    // A write between pages does not show: every page is read at the first page's revision.
    await api("/api/v1/namespaces/paging/configmaps", json("POST", cm("paging", "c9-late")));
    const p2 = await api(
      `/api/v1/namespaces/paging/configmaps?limit=3&continue=${p1.body.metadata.continue}`,
    );
    const p3 = await api(
      `/api/v1/namespaces/paging/configmaps?limit=3&continue=${p2.body.metadata.continue}`,
    );
    expect(p3.body.metadata.continue).toBeUndefined();
    const names = [...p1.body.items, ...p2.body.items, ...p3.body.items].map((o) => o.metadata.name);
    expect(names).toEqual(["c0", "c1", "c2", "c3", "c4", "c5", "c6"]);
    expect(p2.body.metadata.resourceVersion).toBe(p1.body.metadata.resourceVersion);
    await kube!.compact();
    const stale = await api(
      `/api/v1/namespaces/paging/configmaps?limit=3&continue=${p1.body.metadata.continue}`,
    );
    expect(stale.status).toBe(410);
    expect(stale.body.reason).toBe("Expired");
  });

  test("watch from a list's version: ADDED, MODIFIED, DELETED with their revisions; compacted version → 410 ERROR", async () => {
    await namespace("watching");
    const list = await api("/api/v1/namespaces/watching/configmaps");
    const w = watch(
      `/api/v1/namespaces/watching/configmaps?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`,
    );
    try {
      const created = await api("/api/v1/namespaces/watching/configmaps", json("POST", cm("watching", "x")));
      const patched = await api(
        "/api/v1/namespaces/watching/configmaps/x",
        json("PATCH", { data: { a: "2" } }, "application/merge-patch+json"),
      );
      await api("/api/v1/namespaces/watching/configmaps/x", { method: "DELETE" });
      await eventually("three events", () => w.events.length >= 3, { timeoutMs: 10_000 });
      expect(w.events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
      expect(w.events[0]!.object.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion);
      expect(w.events[1]!.object.metadata.resourceVersion).toBe(patched.body.metadata.resourceVersion);
      expect(Number(w.events[2]!.object.metadata.resourceVersion)).toBeGreaterThan(
        Number(patched.body.metadata.resourceVersion),
      );
    } finally {
      w.stop();
    }
    await kube!.compact();
    const old = watch(
      `/api/v1/namespaces/watching/configmaps?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`,
    );
    expect(await old.done).toBe("ended");
    expect(old.events).toHaveLength(1);
    expect(old.events[0]!.type).toBe("ERROR");
    expect(old.events[0]!.object.code).toBe(410);
  });

  test("bookmarks keep the version fresh; initial events end with a marked bookmark", async () => {
    await namespace("marks");
    await api("/api/v1/namespaces/marks/configmaps", json("POST", cm("marks", "a")));
    const w = watch(
      "/api/v1/namespaces/marks/configmaps?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
    );
    try {
      await eventually("the initial-events-end bookmark", () => w.events.some((e) => e.type === "BOOKMARK"), {
        timeoutMs: 10_000,
      });
      expect(w.events[0]!.type).toBe("ADDED");
      expect(w.events[1]!.object.metadata.annotations?.["k8s.io/initial-events-end"]).toBe("true");
      // Writes elsewhere advance etcd's revision; the next bookmarks carry it (progress notify).
      await api("/api/v1/namespaces", json("POST", { metadata: { name: "marks-elsewhere" } }));
      const rev = Number(await kube!.revision());
      await eventually(
        "a bookmark at the newer revision",
        () => w.events.some((e) => e.type === "BOOKMARK" && Number(e.object.metadata.resourceVersion) >= rev),
        { timeoutMs: 15_000 },
      );
    } finally {
      w.stop();
    }
  });

  test("a label selector on a watch: moving out is DELETED, moving in is ADDED; field selector by name", async () => {
    await namespace("sel");
    await api("/api/v1/namespaces/sel/configmaps", json("POST", cm("sel", "a", { app: "x" })));
    const w = watch("/api/v1/namespaces/sel/configmaps?watch=true&labelSelector=app%3Dx");
    const byName = watch("/api/v1/namespaces/sel/configmaps?watch=true&fieldSelector=metadata.name%3Db");
    try {
      await eventually("the synthetic ADDED", () => w.events.length === 1, { timeoutMs: 10_000 });
      const label = (v: string) =>
        api(
          "/api/v1/namespaces/sel/configmaps/a",
          json("PATCH", { metadata: { labels: { app: v } } }, "application/merge-patch+json"),
        );
      await label("y");
      await label("x");
      await api("/api/v1/namespaces/sel/configmaps", json("POST", cm("sel", "b", { app: "z" })));
      await eventually("out and in", () => w.events.length === 3, { timeoutMs: 10_000 });
      expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
        "ADDED a",
        "DELETED a",
        "ADDED a",
      ]);
      await eventually("b by name", () => byName.events.length === 1, { timeoutMs: 10_000 });
      expect(byName.events[0]!.object.metadata.name).toBe("b");
    } finally {
      w.stop();
      byName.stop();
    }
  });

  test("409 AlreadyExists and Conflict, 422 for a custom resource PUT without a version, 415 strategic on it", async () => {
    await namespace("cas");
    const first = await api("/api/v1/namespaces/cas/configmaps", json("POST", cm("cas", "a")));
    const dry = await api("/api/v1/namespaces/cas/configmaps?dryRun=All", json("POST", cm("cas", "dry")));
    expect(dry.status).toBe(400); // refused, never written for real
    expect((await api("/api/v1/namespaces/cas/configmaps/dry")).status).toBe(404);
    const dup = await api("/api/v1/namespaces/cas/configmaps", json("POST", cm("cas", "a")));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ kind: "Status", reason: "AlreadyExists", code: 409 });
    const ok = await api(
      "/api/v1/namespaces/cas/configmaps/a",
      json("PUT", { ...first.body, data: { a: "2" } }),
    );
    expect(ok.status).toBe(200);
    const stale = await api(
      "/api/v1/namespaces/cas/configmaps/a",
      json("PUT", { ...first.body, data: { a: "3" } }),
    );
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe("Conflict");
    const del = await api(
      "/api/v1/namespaces/cas/configmaps/a",
      json("DELETE", { preconditions: { resourceVersion: first.body.metadata.resourceVersion } }),
    );
    expect(del.status).toBe(409);
    const crd = await api(
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
      json("POST", {
        metadata: { name: "blocks.cas.test" },
        spec: {
          group: "cas.test",
          scope: "Cluster",
          names: { plural: "blocks", kind: "Block" },
          versions: [{ name: "v1", served: true, storage: true, subresources: { status: {} } }],
        },
      }),
    );
    expect(crd.status).toBe(201);
    expect(crd.body.status.conditions.map((c: { type: string }) => c.type)).toContain("Established");
    const groups = await api("/apis");
    expect(groups.body.groups.map((g: { name: string }) => g.name)).toContain("cas.test");
    const rl = await api("/apis/cas.test/v1");
    expect(rl.body.resources.map((r: { name: string }) => r.name)).toEqual(["blocks", "blocks/status"]);
    const b = {
      apiVersion: "cas.test/v1",
      kind: "Block",
      metadata: { name: "b1" },
      spec: { node: "n1" },
      status: { x: 1 },
    };
    const made = await api("/apis/cas.test/v1/blocks", json("POST", b));
    expect(made.status).toBe(201);
    expect(made.body.status).toBeUndefined(); // status subresource: dropped on create
    const race = await api("/apis/cas.test/v1/blocks", json("POST", b));
    expect(race.body.reason).toBe("AlreadyExists");
    const blind = await api("/apis/cas.test/v1/blocks/b1", json("PUT", { ...b, spec: { node: "n2" } }));
    expect(blind.status).toBe(422);
    const smp = await api(
      "/apis/cas.test/v1/blocks/b1",
      json("PATCH", { spec: { node: "n3" } }, "application/strategic-merge-patch+json"),
    );
    expect(smp.status).toBe(415);
  });

  test("status subresource: the main endpoint keeps status, /status changes only status; generation counts spec changes", async () => {
    const node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n1" },
      spec: { podCIDRs: ["10.0.0.0/24"] },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    };
    const made = await api("/api/v1/nodes", json("POST", node));
    expect(made.status).toBe(201);
    const put = await api(
      "/api/v1/nodes/n1",
      json("PUT", { ...made.body, spec: { podCIDRs: ["10.0.1.0/24"] }, status: {} }),
    );
    expect(put.body.status.conditions).toHaveLength(1);
    expect(put.body.metadata.generation).toBe(2);
    // The adapter's node annotations: merge patch on nodes/status, conditional on the version.
    const ann = await api(
      "/api/v1/nodes/n1/status",
      json(
        "PATCH",
        {
          metadata: {
            resourceVersion: put.body.metadata.resourceVersion,
            annotations: { "tartan.dev/x": "1" },
          },
        },
        "application/merge-patch+json",
      ),
    );
    expect(ann.status).toBe(200);
    expect(ann.body.metadata.annotations["tartan.dev/x"]).toBe("1");
    const staleAnn = await api(
      "/api/v1/nodes/n1/status",
      json(
        "PATCH",
        {
          metadata: {
            resourceVersion: put.body.metadata.resourceVersion,
            annotations: { "tartan.dev/x": "2" },
          },
        },
        "application/merge-patch+json",
      ),
    );
    expect(staleAnn.status).toBe(409);
    // Conditions merge by type under a strategic merge patch (kubelet's Ready stays).
    const cond = await api(
      "/api/v1/nodes/n1/status",
      json(
        "PATCH",
        {
          status: { conditions: [{ type: "NetworkUnavailable", status: "False", reason: "TartanIsUp" }] },
          spec: { podCIDRs: [] },
        },
        "application/strategic-merge-patch+json",
      ),
    );
    expect(cond.body.status.conditions.map((c: { type: string }) => c.type)).toEqual([
      "Ready",
      "NetworkUnavailable",
    ]);
    expect(cond.body.spec.podCIDRs).toEqual(["10.0.1.0/24"]);
    expect(cond.body.metadata.generation).toBe(2);
  });

  test("a restart ends open watches; resuming from the last version sees what happened since", async () => {
    await namespace("restart");
    const list = await api("/api/v1/namespaces/restart/configmaps");
    const w = watch(
      `/api/v1/namespaces/restart/configmaps?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`,
    );
    await api("/api/v1/namespaces/restart/configmaps", json("POST", cm("restart", "before")));
    await eventually("the first event", () => w.events.length === 1, { timeoutMs: 10_000 });
    await kube!.restart();
    expect(await w.done).toBe("ended");
    await api("/api/v1/namespaces/restart/configmaps", json("POST", cm("restart", "after")));
    const resumed = watch(
      `/api/v1/namespaces/restart/configmaps?watch=1&resourceVersion=${w.events[0]!.object.metadata.resourceVersion}`,
    );
    try {
      await eventually("the event made after the restart", () => resumed.events.length === 1, {
        timeoutMs: 10_000,
      });
      expect(resumed.events[0]!.object.metadata.name).toBe("after");
    } finally {
      resumed.stop();
    }
  });

  test("no credentials: 401 Status; a token: served", async () => {
    const ca = readFileSync(kube!.caFile, "utf8");
    const anon = await fetch(`${kube!.url}/api/v1/namespaces`, { tls: { ca } } as RequestInit);
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { reason: string }).reason).toBe("Unauthorized");
    const tok = await fetch(`${kube!.url}/api/v1/namespaces/default`, {
      headers: { authorization: `Bearer ${kube!.token}` },
      tls: { ca },
    } as RequestInit);
    expect(tok.status).toBe(200);
  });
});
