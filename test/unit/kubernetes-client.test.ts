// The Kubernetes adapter's logic against an in-test HTTP server that answers as the API server
// would (scripted per test): watch decoding across chunk boundaries, resume from the last
// version (bookmarks included), reconnect after a failure, 410 → datastore-compacted and the
// mirror's relist diff, paged lists, token re-read, and tartan's Node on a core Node. The
// contract suite against a real API server on etcd runs in test/integration.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KindMirror } from "../../src/agent/kind-mirror.ts";
import type { WatchEvent } from "../../src/datastore/datastore.ts";
import { KubeClient } from "../../src/datastore/kubernetes/kube-client.ts";
import {
  inClusterConnection,
  type KubeConnection,
  kubeconfigConnection,
  tokenFromFile,
} from "../../src/datastore/kubernetes/kube-connection.ts";
import { KubernetesDatastore } from "../../src/datastore/kubernetes/kubernetes-datastore.ts";
import { microTime } from "../../src/datastore/kubernetes/lease-translation.ts";
import { NODE_ANNOTATIONS } from "../../src/datastore/kubernetes/node-annotations.ts";
import { WatchLineSplitter } from "../../src/datastore/kubernetes/watch-line-splitter.ts";
import type { TartanError } from "../../src/errors/tartan-error.ts";
import { eventually } from "../harness/eventually.ts";

type Handler = (req: Request, url: URL, body: unknown) => Response | Promise<Response>;

interface FakeApi {
  ds: KubernetesDatastore;
  client: KubeClient;
  requests: { method: string; path: string; query: URLSearchParams; body: unknown; auth: string | null }[];
}

const servers: ReturnType<typeof Bun.serve>[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const status = (code: number, reason: string, message = reason) =>
  json(code, { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });

/** A watch answer sent in the given chunks, with a pause between them, then closed. */
function stream(chunks: string[]): Response {
  const enc = new TextEncoder();
  return new Response(
    new ReadableStream({
      async start(c) {
        for (const ch of chunks) {
          c.enqueue(enc.encode(ch));
          await Bun.sleep(5);
        }
        c.close();
      },
    }),
    { headers: { "content-type": "application/json" } },
  );
}

function conn(server: string, token?: () => string | undefined, refresh = () => {}): KubeConnection {
  return { server, tls: {}, token: token ?? (() => undefined), refreshToken: refresh, source: "test" };
}

function fakeApi(handler: Handler, c?: (server: string) => KubeConnection): FakeApi {
  const requests: FakeApi["requests"] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const text = req.method === "GET" ? "" : await req.text();
      const body: unknown = text ? JSON.parse(text) : undefined;
      requests.push({
        method: req.method,
        path: url.pathname,
        query: url.searchParams,
        body,
        auth: req.headers.get("authorization"),
      });
      return handler(req, url, body);
    },
  });
  servers.push(server);
  const base = `http://127.0.0.1:${server.port}`;
  const client = new KubeClient({ conn: c ? c(base) : conn(base), timeoutMs: 2000 });
  const ds = new KubernetesDatastore({
    client,
    namespace: "tartan-system",
    pageSize: 2,
    backoffMs: () => 5,
    watchGiveUpMs: 2000,
    watchTimeoutSeconds: () => 300,
  });
  return { ds, client, requests };
}

const block = (name: string, rv: string, node = "n1") => ({
  apiVersion: "tartan.dev/v1alpha1",
  kind: "IPAMBlock",
  metadata: { name, resourceVersion: rv, uid: `u-${name}` },
  spec: { cidr: "10.244.0.0/26", pool: "p", node },
});
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

describe("watch lines", () => {
  test("lines cut at every byte, several per chunk, and inside a UTF-8 sequence come out whole", () => {
    const text = `${line("ADDED", { metadata: { name: "é→ü" } })}${line("MODIFIED", { a: 1 })}{"type":"BOOKMARK"}`;
    const bytes = new TextEncoder().encode(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const s = new WatchLineSplitter();
      const out = [...s.push(bytes.slice(0, cut)), ...s.push(bytes.slice(cut)), ...s.end()];
      expect(out).toEqual(text.split("\n"));
    }
    const one = new WatchLineSplitter();
    const all = [...bytes].flatMap((b) => one.push(new Uint8Array([b])));
    expect([...all, ...one.end()].map((l) => JSON.parse(l).type)).toEqual(["ADDED", "MODIFIED", "BOOKMARK"]);
  });
});

describe("credentials", () => {
  test("a token file is re-read after its interval, and at once after refreshToken", () => {
    const dir = mkdtempSync(join(tmpdir(), "tt-kube-"));
    dirs.push(dir);
    const f = join(dir, "token");
    writeFileSync(f, "one\n");
    let now = 0;
    const t = tokenFromFile(f, "test", () => now, 60_000);
    expect(t.token()).toBe("one");
    writeFileSync(f, "two");
    now = 59_000;
    expect(t.token()).toBe("one");
    now = 60_000;
    expect(t.token()).toBe("two");
    writeFileSync(f, "three");
    t.refreshToken();
    expect(t.token()).toBe("three");
  });

  test("a 401 re-reads the token and retries once", async () => {
    // The cached token is stale ("old"); the file already holds the rotated one.
    const file = "new";
    let cached: string | undefined = "old";
    const api = fakeApi(
      (req) =>
        req.headers.get("authorization") === "Bearer new"
          ? json(200, { metadata: { resourceVersion: "7" }, items: [] })
          : status(401, "Unauthorized"),
      (server) =>
        conn(
          server,
          () => (cached ??= file),
          () => {
            cached = undefined;
          },
        ),
    );
    expect((await api.ds.list("IPAMBlock")).revision).toBe("7");
    expect(api.requests.map((r) => r.auth)).toEqual(["Bearer old", "Bearer new"]);
  }, 5000);

  test("in-cluster: the service account's token and CA, the server from KUBERNETES_SERVICE_HOST/PORT", () => {
    const dir = mkdtempSync(join(tmpdir(), "tt-kube-"));
    dirs.push(dir);
    writeFileSync(join(dir, "token"), "sa-token\n");
    writeFileSync(join(dir, "ca.crt"), "SA-CA");
    let now = 0;
    const c = inClusterConnection({
      dir,
      env: { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" },
      now: () => now,
    });
    expect(c.server).toBe("https://[fd00::1]:6443");
    expect(c.tls).toEqual({ ca: "SA-CA" });
    expect(c.token()).toBe("sa-token");
    writeFileSync(join(dir, "token"), "rotated");
    now = 60_000;
    expect(c.token()).toBe("rotated");
    expect(() => inClusterConnection({ dir, env: {} })).toThrow(/KUBERNETES_SERVICE_HOST is not set/);
  });

  test("kubeconfig: server, CA and client certificate from data or files, token; insecure refused", () => {
    const dir = mkdtempSync(join(tmpdir(), "tt-kube-"));
    dirs.push(dir);
    writeFileSync(join(dir, "ca.pem"), "CA-PEM");
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const kc = (cluster: string, user: string) =>
      `apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n` +
      `clusters: [{name: k, cluster: {server: "https://10.0.0.1:6443", ${cluster}}}]\nusers: [{name: u, user: {${user}}}]\n`;
    const p = join(dir, "kubeconfig");
    writeFileSync(
      p,
      kc(
        "certificate-authority: ca.pem",
        `client-certificate-data: ${b64("CERT")}, client-key-data: ${b64("KEY")}, token: tok`,
      ),
    );
    const c = kubeconfigConnection(p);
    expect(c.server).toBe("https://10.0.0.1:6443");
    expect(c.tls).toEqual({ ca: "CA-PEM", cert: "CERT", key: "KEY" });
    expect(c.token()).toBe("tok");
    writeFileSync(p, kc("insecure-skip-tls-verify: true", "token: tok"));
    expect(() => kubeconfigConnection(p)).toThrow(/insecure-skip-tls-verify/);
    writeFileSync(p, kc(`certificate-authority-data: ${b64("CA")}`, "exec: {command: x}"));
    expect(() => kubeconfigConnection(p)).toThrow(/"exec" is not supported/);
    expect(() => kubeconfigConnection(p, "other")).toThrow(/no context "other"/);
  });
});

describe("list and watch", () => {
  test("a paged list is one snapshot at the first page's version, in store-key order, kinds filled in", async () => {
    const api = fakeApi((_req, url) => {
      const cont = url.searchParams.get("continue");
      expect(url.searchParams.get("limit")).toBe("2");
      if (!cont) {
        const { apiVersion: _a, kind: _k, ...b } = block("b", "3");
        return json(200, { metadata: { resourceVersion: "9", continue: "p2" }, items: [b, block("c", "4")] });
      }
      return json(200, { metadata: { resourceVersion: "12" }, items: [block("a", "5")] });
    });
    const l = await api.ds.list("IPAMBlock");
    expect(l.revision).toBe("9");
    expect(l.items.map((o) => o.metadata.name)).toEqual(["a", "b", "c"]);
    expect(l.items.every((o) => o.kind === "IPAMBlock" && o.apiVersion === "tartan.dev/v1alpha1")).toBe(true);
    expect(api.requests.map((r) => r.query.get("continue"))).toEqual([null, "p2"]);
  });

  test("events across chunk boundaries; resume from the last version after EOF and after a 500; 410 → datastore-compacted", async () => {
    let watches = 0;
    const api = fakeApi((_req, url) => {
      expect(url.pathname).toBe("/apis/tartan.dev/v1alpha1/ipamblocks");
      expect(url.searchParams.get("allowWatchBookmarks")).toBe("true");
      watches++;
      if (watches === 1) {
        const l = line("ADDED", block("b1", "10"));
        return stream([
          l.slice(0, 7),
          l.slice(7, 40),
          l.slice(40) + line("BOOKMARK", { kind: "IPAMBlock", metadata: { resourceVersion: "20" } }),
        ]);
      }
      if (watches === 2) return status(500, "InternalError");
      if (watches === 3)
        return stream([line("MODIFIED", block("b1", "21")), line("DELETED", block("b1", "22"))]);
      return stream([
        line("ERROR", {
          kind: "Status",
          code: 410,
          reason: "Expired",
          message: "too old resource version: 22 (30)",
        }),
      ]);
    });
    const events: WatchEvent[] = [];
    const errors: TartanError[] = [];
    const h = api.ds.watch(
      "IPAMBlock",
      "5",
      (e) => events.push(e),
      (e) => errors.push(e as TartanError),
    );
    await eventually("the 410", () => errors.length > 0, { timeoutMs: 5000, intervalMs: 10 });
    h.close();
    expect(events.map((e) => `${e.type} ${e.object.metadata.name} ${e.revision}`)).toEqual([
      "ADDED b1 10",
      "MODIFIED b1 21",
      "DELETED b1 22",
    ]);
    expect(errors.map((e) => e.code)).toEqual(["datastore-compacted"]);
    expect(api.requests.map((r) => r.query.get("resourceVersion"))).toEqual(["5", "20", "20", "22"]);
  });

  test("a connection that goes silent past its timeout is cut and the watch resumed", async () => {
    let watches = 0;
    const api = fakeApi(() => {
      watches++;
      // The first connection sends one event, then nothing, and never ends.
      if (watches === 1)
        return new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode(line("ADDED", block("b1", "10"))));
            },
          }),
        );
      return stream([line("MODIFIED", block("b1", "11"))]);
    });
    const ds = new KubernetesDatastore({
      client: api.client,
      namespace: "tartan-system",
      backoffMs: () => 5,
      watchTimeoutSeconds: () => 0,
      watchSilenceGraceMs: 200,
    });
    const events: WatchEvent[] = [];
    const h = ds.watch("IPAMBlock", "5", (e) => events.push(e));
    await eventually("the event after the cut", () => events.length >= 2, {
      timeoutMs: 3000,
      intervalMs: 10,
    });
    h.close();
    expect(events.map((e) => e.revision).slice(0, 2)).toEqual(["10", "11"]);
    expect(api.requests[1]!.query.get("resourceVersion")).toBe("10");
  });

  test("a watch that only fails gives up with datastore-unavailable; a 403 at once with datastore-auth", async () => {
    const api = fakeApi((_req, url) =>
      url.pathname.includes("ippools") ? status(403, "Forbidden") : status(503, "ServiceUnavailable"),
    );
    const errors: TartanError[] = [];
    api.ds.watch(
      "IPAMBlock",
      "1",
      () => {},
      (e) => errors.push(e as TartanError),
    );
    api.ds.watch(
      "IPPool",
      "1",
      () => {},
      (e) => errors.push(e as TartanError),
    );
    await eventually("both errors", () => errors.length === 2, { timeoutMs: 8000, intervalMs: 20 });
    expect(errors.map((e) => e.code).sort()).toEqual(["datastore-auth", "datastore-unavailable"]);
  }, 10_000);

  test("after a 410 the mirror lists again and drops what vanished (relist diff)", async () => {
    let lists = 0;
    const api = fakeApi((_req, url) => {
      if (url.searchParams.get("watch")) {
        if (url.searchParams.get("resourceVersion") === "10")
          return stream([line("ERROR", { kind: "Status", code: 410, reason: "Gone" })]);
        return stream([]);
      }
      lists++;
      // The relist asks for the newest state: no resourceVersion (never the stale one).
      expect(url.searchParams.get("resourceVersion")).toBeNull();
      return lists === 1
        ? json(200, { metadata: { resourceVersion: "10" }, items: [block("a", "3"), block("b", "4")] })
        : json(200, { metadata: { resourceVersion: "30" }, items: [block("a", "25")] });
    });
    const changed: string[] = [];
    const mirror = new KindMirror(api.ds, "IPAMBlock", {
      onChange: () => {},
      onError: () => {},
      onItem: (k) => changed.push(k),
      setTimeout: (fn) => setTimeout(fn, 1),
    });
    await mirror.start();
    expect([...mirror.items.keys()]).toEqual(["a", "b"]);
    await eventually("the relist", () => lists >= 2 && mirror.live, { timeoutMs: 5000, intervalMs: 10 });
    mirror.stop();
    expect([...mirror.items.keys()]).toEqual(["a"]);
    expect(mirror.items.get("a")?.metadata.resourceVersion).toBe("25");
    expect(changed).toContain("b");
  });
});

describe("retries", () => {
  test("429 and 503 are retried after Retry-After (at most twice); the third answer stands", async () => {
    let n = 0;
    const api = fakeApi(() => {
      n++;
      if (n === 1)
        return new Response(JSON.stringify({ kind: "Status", code: 429, reason: "TooManyRequests" }), {
          status: 429,
          headers: { "retry-after": "0" },
        });
      return json(200, { metadata: { resourceVersion: "3" }, items: [] });
    });
    expect((await api.ds.list("IPPool")).revision).toBe("3");
    expect(n).toBe(2);
    let m = 0;
    const busy = fakeApi(() => {
      m++;
      return new Response("{}", { status: 503, headers: { "retry-after": "0" } });
    });
    const code = await busy.ds.list("IPPool").then(
      () => "",
      (e: TartanError) => e.code,
    );
    expect([code, m]).toEqual(["datastore-unavailable", 3]);
  });
});

describe("missing CRDs", () => {
  test("a 404 on tartan's collections says the CRDs are not installed (unavailable: the agent retries)", async () => {
    const api = fakeApi(() => status(404, "NotFound", "the server could not find the requested resource"));
    const err = (await api.ds.list("IPAMBlock").catch((e) => e)) as TartanError;
    expect(err.code).toBe("datastore-unavailable");
    expect(err.message).toContain("does not serve ipamblocks.tartan.dev");
    expect(err.hint).toContain("kubectl apply -f deploy/tartan.yaml");
    const created = (await api.ds.create(block("x", "1")).catch((e) => e)) as TartanError;
    expect(created.code).toBe("datastore-unavailable");
    // An object that is not there is still plain not-found.
    expect(await api.ds.get("IPAMBlock", "x")).toBeUndefined();
  });
});

describe("writes", () => {
  test("409 AlreadyExists and 409 Conflict are datastore-conflict; 404 on update is datastore-not-found", async () => {
    const api = fakeApi((req) =>
      req.method === "POST"
        ? status(409, "AlreadyExists")
        : req.method === "PUT"
          ? status(409, "Conflict")
          : status(404, "NotFound"),
    );
    const b = block("x", "1");
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "",
        (e: TartanError) => e.code,
      );
    expect(await code(api.ds.create(b))).toBe("datastore-conflict");
    expect(await code(api.ds.update(b))).toBe("datastore-conflict");
    expect(await code(api.ds.delete("IPAMBlock", "x", undefined, "1"))).toBe("datastore-not-found");
    expect(await api.ds.get("IPAMBlock", "x")).toBeUndefined();
    const put = api.requests.find((r) => r.method === "PUT")!;
    expect(put.path).toBe("/apis/tartan.dev/v1alpha1/ipamblocks/x");
    expect((put.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion).toBe("1");
    const del = api.requests.find((r) => r.method === "DELETE")!;
    expect(del.body).toEqual({
      apiVersion: "v1",
      kind: "DeleteOptions",
      preconditions: { resourceVersion: "1" },
    });
  });

  test("the Lease is a coordination.k8s.io Lease in the datastore's namespace", async () => {
    const api = fakeApi((_req, _url, raw) => {
      const body = raw as { metadata?: object; spec?: object };
      return json(201, { ...body, metadata: { ...body.metadata, resourceVersion: "5", uid: "u" } });
    });
    const got = await api.ds.create({
      apiVersion: "tartan.dev/v1alpha1",
      kind: "Lease",
      metadata: { name: "node-reclaimer" },
      spec: {
        holder: "n1",
        renewTime: "2026-12-05T10:00:00.123Z",
        leaseDurationSeconds: 6.5,
        transitions: 0,
      },
    });
    expect(api.requests[0]!.path).toBe("/apis/coordination.k8s.io/v1/namespaces/tartan-system/leases");
    expect((api.requests[0]!.body as { spec: unknown }).spec).toEqual({
      holderIdentity: "n1",
      renewTime: "2026-12-05T10:00:00.123000Z",
      leaseDurationSeconds: 7,
      leaseTransitions: 0,
    });
    expect(got.metadata).toEqual({ name: "node-reclaimer", uid: "u", resourceVersion: "5" });
    expect(got.spec).toEqual({
      holder: "n1",
      renewTime: microTime("2026-12-05T10:00:00.123Z"),
      leaseDurationSeconds: 7,
      transitions: 0,
    });
  });
});

describe("tartan's Node on the core Node", () => {
  const kubeletNode = (annotations: Record<string, string> = {}, rv = "40") => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: "n1",
      uid: "u1",
      resourceVersion: rv,
      labels: { "kubernetes.io/hostname": "n1" },
      annotations,
    },
    spec: { podCIDR: "10.9.1.0/24", podCIDRs: ["10.9.1.0/24", "fd00:9:1::/64"] },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  });
  const registered = {
    [NODE_ANNOTATIONS.underlayAddress]: "198.18.0.11",
    [NODE_ANNOTATIONS.underlaySubnet]: "198.18.0.0/15",
    [NODE_ANNOTATIONS.vtepMac]: "0a:58:00:00:00:01",
    [NODE_ANNOTATIONS.status]: '{"heartbeat":"2026-12-05T10:00:00Z","ready":true}',
  };

  test("a kubelet Node without tartan's annotations is invisible; create adds them by a CAS status patch; delete takes them off", async () => {
    let node = kubeletNode();
    const api = fakeApi((req, url, raw) => {
      if (req.method === "GET" && url.pathname === "/api/v1/nodes/n1") return json(200, node);
      if (req.method === "GET") return json(200, { metadata: { resourceVersion: "41" }, items: [node] });
      if (req.method === "PATCH" && url.pathname === "/api/v1/nodes/n1/status") {
        expect(req.headers.get("content-type")).toBe("application/merge-patch+json");
        const p = raw as {
          metadata: { resourceVersion: string; annotations: Record<string, string | null> };
        };
        if (p.metadata.resourceVersion !== node.metadata.resourceVersion) return status(409, "Conflict");
        const a: Record<string, string> = { ...node.metadata.annotations };
        for (const [k, v] of Object.entries(p.metadata.annotations))
          if (v === null) delete a[k];
          else a[k] = v;
        node = kubeletNode(a, String(Number(node.metadata.resourceVersion) + 1));
        return json(200, node);
      }
      return status(405, "MethodNotAllowed");
    });
    expect(await api.ds.get("Node", "n1")).toBeUndefined();
    expect((await api.ds.list("Node")).items).toEqual([]);
    const created = await api.ds.create({
      apiVersion: "tartan.dev/v1alpha1",
      kind: "Node",
      metadata: { name: "n1" },
      spec: { underlayAddress: "198.18.0.11", underlaySubnet: "198.18.0.0/15", vtepMac: "0a:58:00:00:00:01" },
      status: { heartbeat: "2026-12-05T10:00:00Z", ready: true },
    });
    expect(node.metadata.annotations).toEqual(registered);
    expect(created).toEqual({
      apiVersion: "tartan.dev/v1alpha1",
      kind: "Node",
      metadata: { name: "n1", uid: "u1", resourceVersion: "41", labels: { "kubernetes.io/hostname": "n1" } },
      spec: {
        underlayAddress: "198.18.0.11",
        underlaySubnet: "198.18.0.0/15",
        vtepMac: "0a:58:00:00:00:01",
        podCIDRs: ["10.9.1.0/24", "fd00:9:1::/64"],
      },
      status: { heartbeat: "2026-12-05T10:00:00Z", ready: true },
    });
    expect(await api.ds.get("Node", "n1")).toEqual(created);
    // A second registration is a conflict, a stale update too.
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "",
        (e: TartanError) => e.code,
      );
    expect(await code(api.ds.create(created))).toBe("datastore-conflict");
    expect(
      await code(api.ds.update({ ...created, metadata: { ...created.metadata, resourceVersion: "40" } })),
    ).toBe("datastore-conflict");
    // kubelet's Node is never deleted: only tartan's annotations go.
    await api.ds.delete("Node", "n1", undefined, "41");
    expect(node.metadata.annotations).toEqual({});
    expect(api.requests.some((r) => r.method === "DELETE")).toBe(false);
    expect(await code(api.ds.delete("Node", "n1"))).toBe("datastore-not-found");
  });

  test("spec.bgp travels as the tartan.dev/bgp annotation; the agent's labels are added, never removed", async () => {
    let node = kubeletNode();
    const api = fakeApi((req, _url, raw) => {
      if (req.method === "GET") return json(200, node);
      const p = raw as {
        metadata: { annotations: Record<string, string | null>; labels?: Record<string, string> };
      };
      const a: Record<string, string> = {};
      for (const [k, v] of Object.entries(p.metadata.annotations)) if (v !== null) a[k] = v;
      const n = kubeletNode(a, "41");
      node = { ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, ...p.metadata.labels } } };
      return json(200, node);
    });
    const created = await api.ds.create({
      apiVersion: "tartan.dev/v1alpha1",
      kind: "Node",
      metadata: { name: "n1", labels: { rack: "a" } },
      spec: { underlayAddress: "198.18.0.11", underlaySubnet: "198.18.0.0/15", bgp: { asNumber: 64601 } },
    });
    expect(node.metadata.annotations).toMatchObject({ [NODE_ANNOTATIONS.bgp]: '{"asNumber":64601}' });
    expect(node.metadata.labels as Record<string, string>).toEqual({
      "kubernetes.io/hostname": "n1",
      rack: "a",
    });
    expect((created.spec as { bgp: unknown }).bgp).toEqual({ asNumber: 64601 });
    expect(created.metadata.labels).toEqual({ "kubernetes.io/hostname": "n1", rack: "a" });
  });

  test("watch: a Node losing its annotations is a DELETED of tartan's last view; other Nodes stay silent", async () => {
    const other = { ...kubeletNode(), metadata: { ...kubeletNode().metadata, name: "n2" } };
    let watches = 0;
    const api = fakeApi(() =>
      watches++ > 0
        ? stream([])
        : stream([
            line("ADDED", other),
            line("MODIFIED", kubeletNode(registered, "50")),
            line("MODIFIED", other),
            line("MODIFIED", kubeletNode({}, "51")),
            line("MODIFIED", kubeletNode({}, "52")),
          ]),
    );
    const events: WatchEvent[] = [];
    const h = api.ds.watch("Node", "1", (e) => events.push(e));
    await eventually("two events", () => events.length >= 2, { timeoutMs: 3000, intervalMs: 10 });
    await Bun.sleep(50);
    h.close();
    expect(events.map((e) => `${e.type} ${e.object.metadata.name} ${e.revision}`)).toEqual([
      "MODIFIED n1 50",
      "DELETED n1 51",
    ]);
    expect((events[1]!.object.spec as { underlayAddress: string }).underlayAddress).toBe("198.18.0.11");
    expect(events[1]!.object.metadata.resourceVersion).toBe("51");
  });
});
