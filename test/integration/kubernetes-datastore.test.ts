// The Datastore contract and the Kubernetes-specific behaviour of the `kubernetes` adapter against
// the stand-in API server on a real etcd (test/harness/kube-apiserver.ts, inside the private
// namespace scripts/test.sh runs this stage in; skipped anywhere else): over HTTPS with the
// CA verified, a client certificate or a bearer token; forced compaction (410 → the mirror lists
// again and drops what vanished), an API server restart in the middle of a watch, two nodes
// racing for one block, and tartan's Node as annotations on a Node kubelet made.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { KindMirror } from "../../src/agent/kind-mirror.ts";
import type { WatchEvent } from "../../src/datastore/datastore.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import type { TartanError } from "../../src/errors/tartan-error.ts";
import { blockName, KINDS } from "../../src/model/cluster-resources.ts";
import { type Resource, TARTAN_API_VERSION } from "../../src/model/resource.ts";
import { codeOf, datastoreContract, node } from "../contract/datastore-contract.ts";
import { type EtcdServer, etcdSkipReason, startEtcd } from "../harness/etcd.ts";
import { eventually } from "../harness/eventually.ts";
import {
  adminRequest,
  type KubeApiServerFixture,
  permissiveCrd,
  startKubeApiServer,
} from "../harness/kube-apiserver.ts";

if (etcdSkipReason) console.warn(`kubernetes datastore tests skipped: ${etcdSkipReason}`);
const skip = etcdSkipReason;

let etcd: EtcdServer | undefined;
let kube: KubeApiServerFixture | undefined;
let raw: Etcd3 | undefined;

/** A request as the admin (client certificate), around the adapter. */
const admin = (method: string, path: string, body?: unknown, contentType?: string) =>
  adminRequest<Resource & { status?: Record<string, unknown> }>(kube!, method, path, body, contentType);

beforeAll(async () => {
  if (skip) return;
  etcd = await startEtcd();
  kube = await startKubeApiServer({ etcd, bookmarkIntervalMs: 500 });
  raw = new Etcd3({ hosts: [etcd.endpoint] });
  for (const c of [permissiveCrd("IPPool", "ippools"), permissiveCrd("IPAMBlock", "ipamblocks")]) {
    await admin("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", c);
  }
  await admin("POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "tartan-system" },
    spec: {},
  });
});
afterAll(async () => {
  raw?.close();
  await kube?.cleanup();
  await etcd?.cleanup();
});

/** Every object a test may make, removed from etcd (the API server keeps no cache). */
async function wipe(): Promise<void> {
  for (const p of ["/registry/minions/", "/registry/pods/", "/registry/tartan.dev/", "/registry/leases/"]) {
    await raw!.delete().prefix(p);
  }
}

const open = (context?: string) =>
  openDatastore({ type: "kubernetes", kubeconfig: kube!.kubeconfigPath, ...(context ? { context } : {}) });

datastoreContract(
  "kubernetes (stand-in API server on etcd)",
  async () => {
    await wipe();
    const ds = await open();
    return {
      ds,
      // The API server compacts etcd up to now; the contract compacts at its last write.
      compact: async () => {
        await kube!.compact();
      },
      cleanup: async () => {
        await ds.close();
        await wipe();
      },
    };
  },
  { skip },
);

const block = (cidr: string, nodeName: string): Resource => ({
  apiVersion: TARTAN_API_VERSION,
  kind: KINDS.ipamBlock,
  metadata: { name: blockName(cidr) },
  spec: { cidr, pool: "pool-a", node: nodeName },
});

describe.skipIf(skip !== undefined)("kubernetes datastore against the stand-in API server", () => {
  test("a bearer token (the other kubeconfig context) works like the client certificate", async () => {
    await wipe();
    const ds = await open("tartan-test-token");
    try {
      await ds.create(node("t1"));
      expect((await ds.list(KINDS.node)).items.map((o) => o.metadata.name)).toEqual(["t1"]);
    } finally {
      await ds.close();
      await wipe();
    }
  });

  test("TLS is verified: a CA that did not sign the server's certificate is refused (datastore-tls)", async () => {
    const text = readFileSync(kube!.kubeconfigPath, "utf8");
    const bad = join(kube!.dir, "kubeconfig-bad-ca");
    // The client certificate is no CA of the server's certificate.
    const clientCert = Buffer.from(readFileSync(kube!.clientCertFile)).toString("base64");
    writeFileSync(
      bad,
      text
        .replace(/certificate-authority-data: .*/, `certificate-authority-data: ${clientCert}`)
        .replace(/certificate-authority: .*/, `certificate-authority-data: ${clientCert}`),
    );
    const ds = await openDatastore({ type: "kubernetes", kubeconfig: bad });
    expect(await codeOf(ds.list(KINDS.node))).toBe("datastore-tls");
    await ds.close();
  });

  test("two nodes racing for one block: exactly one wins, the other gets datastore-conflict", async () => {
    await wipe();
    const a = await open();
    const b = await open("tartan-test-token");
    try {
      for (let i = 0; i < 10; i++) {
        const cidr = `10.244.${i}.0/26`;
        const r = await Promise.allSettled([
          a.create(block(cidr, "node-a")),
          b.create(block(cidr, "node-b")),
        ]);
        const won = r.filter((x) => x.status === "fulfilled") as PromiseFulfilledResult<Resource>[];
        expect(won.length).toBe(1);
        const lost = r.find((x) => x.status === "rejected") as PromiseRejectedResult;
        expect((lost.reason as TartanError).code).toBe("datastore-conflict");
        const stored = await a.get(KINDS.ipamBlock, blockName(cidr));
        expect((stored!.spec as { node: string }).node).toBe((won[0]!.value.spec as { node: string }).node);
      }
      // The loser's update at a stale version loses too (allocation by PUT with resourceVersion).
      const cur = (await a.get(KINDS.ipamBlock, blockName("10.244.0.0/26")))!;
      await b.update(cur);
      expect(await codeOf(a.update(cur))).toBe("datastore-conflict");
    } finally {
      await a.close();
      await b.close();
      await wipe();
    }
  });

  test("an API server restart mid-watch: the watch resumes from its last version, nothing lost or repeated", async () => {
    await wipe();
    const ds = await open();
    const events: WatchEvent[] = [];
    try {
      const l = await ds.list(KINDS.ipamBlock);
      const h = ds.watch(KINDS.ipamBlock, l.revision, (e) => events.push(e));
      await ds.create(block("10.244.1.0/26", "n1"));
      await eventually("the first event", () => events.length === 1, { timeoutMs: 5000, intervalMs: 20 });
      // Stopped and started with nothing in between, then changes, then a restart with a change after it.
      await kube!.stop();
      await kube!.start();
      await ds.create(block("10.244.2.0/26", "n1"));
      await ds.delete(KINDS.ipamBlock, blockName("10.244.1.0/26"));
      await eventually("3 events", () => events.length >= 3, { timeoutMs: 10_000, intervalMs: 20 });
      await kube!.restart();
      await ds.create(block("10.244.3.0/26", "n1"));
      await eventually("4 events", () => events.length >= 4, { timeoutMs: 10_000, intervalMs: 20 });
      await Bun.sleep(300);
      h.close();
      expect(events.map((e) => `${e.type} ${(e.object.spec as { cidr: string }).cidr}`)).toEqual([
        "ADDED 10.244.1.0/26",
        "ADDED 10.244.2.0/26",
        "DELETED 10.244.1.0/26",
        "ADDED 10.244.3.0/26",
      ]);
    } finally {
      await kube!.start(); // a no-op when it runs
      await ds.close();
      await wipe();
    }
  }, 30_000);

  test("forced compaction while a watch is away: 410 → the mirror lists again (no version) and drops what vanished", async () => {
    await wipe();
    const ds = await open();
    const errors: string[] = [];
    const mirror = new KindMirror(ds, KINDS.ipamBlock, {
      onChange: () => {},
      onError: (e) => errors.push((e as TartanError).code),
      setTimeout: (fn) => setTimeout(fn, 20),
    });
    try {
      await ds.create(block("10.244.1.0/26", "n1"));
      await ds.create(block("10.244.2.0/26", "n1"));
      await mirror.start();
      expect([...mirror.items.keys()].sort()).toEqual([
        blockName("10.244.1.0/26"),
        blockName("10.244.2.0/26"),
      ]);
      // The watch is cut; meanwhile one block goes, one comes, and the history is compacted away.
      await kube!.stop();
      const other = await open();
      await kube!.start();
      await other.delete(KINDS.ipamBlock, blockName("10.244.1.0/26"));
      await other.create(block("10.244.3.0/26", "n2"));
      await other.close();
      await kube!.compact();
      await kube!.restart();
      await eventually(
        "the mirror's relist",
        () =>
          [...mirror.items.keys()].sort().join() ===
          [blockName("10.244.2.0/26"), blockName("10.244.3.0/26")].join(),
        { timeoutMs: 15_000, intervalMs: 50 },
      );
      expect(mirror.live).toBe(true);
    } finally {
      mirror.stop();
      await ds.close();
      await wipe();
    }
  }, 30_000);

  test("tartan's Node on a Node kubelet made: annotations added by CAS and taken off, the Node and its conditions stay", async () => {
    await wipe();
    await admin("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "kn1", labels: { "kubernetes.io/hostname": "kn1" } },
      spec: { podCIDR: "10.9.1.0/24", podCIDRs: ["10.9.1.0/24"] },
    });
    await admin(
      "PATCH",
      "/api/v1/nodes/kn1/status",
      { status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }] } },
      "application/merge-patch+json",
    );
    const ds = await open();
    try {
      expect(await ds.get(KINDS.node, "kn1")).toBeUndefined();
      const n = await ds.create(node("kn1", "198.18.0.21"));
      expect(n.spec).toEqual({
        underlayAddress: "198.18.0.21",
        underlaySubnet: "198.18.0.0/15",
        podCIDRs: ["10.9.1.0/24"],
      });
      const core = await admin("GET", "/api/v1/nodes/kn1");
      expect(core.metadata.annotations?.["tartan.dev/underlay-address"]).toBe("198.18.0.21");
      expect(core.metadata.annotations?.["tartan.dev/created-by-tartan"]).toBeUndefined();
      expect(((core.status?.conditions ?? []) as { type: string }[]).map((c) => c.type)).toEqual(["Ready"]);
      const n2 = await ds.update({ ...n, status: { heartbeat: "2026-12-05T11:00:00Z", ready: true } });
      expect(n2.status).toEqual({ heartbeat: "2026-12-05T11:00:00Z", ready: true });
      expect(await codeOf(ds.update(n))).toBe("datastore-conflict");
      await ds.delete(KINDS.node, "kn1", undefined, n2.metadata.resourceVersion);
      expect(await ds.get(KINDS.node, "kn1")).toBeUndefined();
      const after = await admin("GET", "/api/v1/nodes/kn1");
      expect(
        Object.keys(after.metadata.annotations ?? {}).filter((k) => k.startsWith("tartan.dev/")),
      ).toEqual([]);
    } finally {
      await ds.close();
      await wipe();
    }
  });
});
