// Two agents in Kubernetes mode (decision 0015) against the stand-in API server on a real etcd
// (test/harness/kube-apiserver.ts, inside the private namespace of this stage; skipped anywhere
// else), with the kernel faked (the datastore side is under test here; the lab's Kubernetes mode
// runs the real kernel): each registers as annotations on a Node kubelet made, seeds the IPPool
// custom resource, claims an IPAMBlock custom resource, sees the other's node and block, marks
// NetworkUnavailable=False, writes no Pod; the node-reclaimer lease is a coordination.k8s.io Lease.
// Then node-podcidr mode: the Nodes' spec.podCIDRs, no IPAMBlock at all, and a Node without one
// reported as PodCIDRNotAssigned; the configured pool (the cluster CIDR) is still created, so
// outgoing NAT masquerades traffic leaving it, and a pod CIDR outside every pool is warned about.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Etcd3 } from "etcd3";
import { Agent } from "../../src/agent/agent.ts";
import { natManager } from "../../src/agent/nat-manager.ts";
import { nodeReclaimer } from "../../src/agent/node-reclaimer.ts";
import { PodCidrBlocks } from "../../src/agent/pod-cidr-blocks.ts";
import { policyApi } from "../../src/agent/policy-api.ts";
import { policyManager } from "../../src/agent/policy-manager-adapter.ts";
import { routingManager } from "../../src/agent/routing-manager.ts";
import { FakeNft } from "../../src/dataplane/fake/fake-nft.ts";
import type { Datastore } from "../../src/datastore/datastore.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import { TEST_UNDERLAY, TEST_VTEP_MAC, testAgentConfig } from "../harness/agent-fixtures.ts";
import { type EtcdServer, etcdSkipReason, startEtcd } from "../harness/etcd.ts";
import { eventually } from "../harness/eventually.ts";
import { FakeKernelPort } from "../harness/fake-kernel-port.ts";
import {
  adminRequest,
  type KubeApiServerFixture,
  permissiveCrd,
  startKubeApiServer,
} from "../harness/kube-apiserver.ts";

if (etcdSkipReason) console.warn(`agent kubernetes tests skipped: ${etcdSkipReason}`);
const skip = etcdSkipReason;
const SETTLE = { timeoutMs: 15_000, intervalMs: 50 };

let etcd: EtcdServer | undefined;
let kube: KubeApiServerFixture | undefined;
let raw: Etcd3 | undefined;

interface CoreObject {
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: { conditions?: { type: string; status: string; reason?: string }[]; podIPs?: unknown };
}

/** A request as the admin (client certificate), around the adapter. */
const admin = (method: string, path: string, body?: unknown, contentType?: string) =>
  adminRequest<CoreObject & { items?: CoreObject[] }>(kube!, method, path, body, contentType);

/** A Node as kubelet registers it: Ready, no tartan annotations. */
async function kubeletNode(name: string, podCIDRs?: string[]): Promise<void> {
  await admin("POST", "/api/v1/nodes", {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    spec: podCIDRs ? { podCIDR: podCIDRs[0], podCIDRs } : {},
  });
  await admin(
    "PATCH",
    `/api/v1/nodes/${name}/status`,
    { status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }] } },
    "application/strategic-merge-patch+json",
  );
}

beforeAll(async () => {
  if (skip) return;
  etcd = await startEtcd();
  kube = await startKubeApiServer({ etcd });
  raw = new Etcd3({ hosts: [etcd.endpoint] });
  for (const c of [permissiveCrd("IPPool", "ippools"), permissiveCrd("IPAMBlock", "ipamblocks")]) {
    await admin("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", c);
  }
  for (const ns of ["tartan-system", "prod"]) {
    await admin("POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
      spec: {},
    });
  }
});
afterAll(async () => {
  raw?.close();
  await kube?.cleanup();
  await etcd?.cleanup();
});

async function wipe(): Promise<void> {
  for (const p of ["/registry/minions/", "/registry/pods/", "/registry/tartan.dev/", "/registry/leases/"]) {
    await raw!.delete().prefix(p);
  }
}

const running: { agent: Agent; ds: Datastore }[] = [];
async function stopAll(): Promise<void> {
  for (const r of running.splice(0)) {
    await r.agent.stop();
    await r.ds.close();
  }
}

async function startAgent(name: string, address: string, over: Record<string, unknown> = {}) {
  const config = testAgentConfig(name, {
    datastore: { type: "kubernetes", kubeconfig: kube!.kubeconfigPath },
    pools: [{ name: "pool-a", cidr: "10.244.0.0/16", blockSize: 26 }],
    heartbeatSeconds: 1,
    nodeNotReadyAfterSeconds: 30,
    ...over,
  });
  const opened = await openDatastore(config.datastore);
  const ds = config.ipam?.mode === "node-podcidr" ? new PodCidrBlocks(opened) : opened;
  const kernel = new FakeKernelPort();
  const nat = new FakeNft();
  const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const agent = new Agent({
    config,
    ds,
    store: new MemoryIpamStore(),
    managers: [
      routingManager(kernel),
      policyManager({ nft: new FakeNft(), sctp: true }),
      nodeReclaimer({ probe: async () => "answers" as const }),
      natManager(nat),
    ],
    underlay: { ...TEST_UNDERLAY, address },
    vtepMac: TEST_VTEP_MAC,
    log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }),
  });
  running.push({ agent, ds });
  await agent.start();
  return { agent, kernel, nat, logs };
}

const condition = (n: CoreObject, type: string) => n.status?.conditions?.find((c) => c.type === type);

describe.skipIf(skip !== undefined)("agents in Kubernetes mode on the stand-in API server", () => {
  test("register on kubelet's Nodes, claim IPAMBlock CRs, route to each other, NetworkUnavailable=False, no Pod writes", async () => {
    await wipe();
    try {
      await kubeletNode("k1");
      await kubeletNode("k2");
      await admin("POST", "/api/v1/namespaces/prod/pods", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web", namespace: "prod", labels: { app: "web" } },
        spec: { nodeName: "k1", containers: [{ name: "c", image: "x" }] },
      });
      const a = await startAgent("k1", "198.18.0.11");
      const b = await startAgent("k2", "198.18.0.12");
      await eventually(
        "both agents route to the other's block",
        () =>
          a.kernel.desired!.blocks.length === 2 &&
          b.kernel.desired!.blocks.length === 2 &&
          a.kernel.desired!.nodes.length === 2,
        SETTLE,
      );
      const blocks = (await admin("GET", "/apis/tartan.dev/v1alpha1/ipamblocks")).items!;
      expect(blocks.map((x) => x.spec?.node).sort()).toEqual(["k1", "k2"]);
      expect(
        (await admin("GET", "/apis/tartan.dev/v1alpha1/ippools")).items!.map((p) => p.metadata.name),
      ).toEqual(["pool-a"]);
      for (const [n, addr] of [
        ["k1", "198.18.0.11"],
        ["k2", "198.18.0.12"],
      ] as const) {
        const node = await admin("GET", `/api/v1/nodes/${n}`);
        expect(node.metadata.annotations?.["tartan.dev/underlay-address"]).toBe(addr);
        expect(node.metadata.annotations?.["tartan.dev/created-by-tartan"]).toBeUndefined();
        await eventually(
          `${n} NetworkUnavailable=False`,
          async () =>
            condition(await admin("GET", `/api/v1/nodes/${n}`), "NetworkUnavailable")?.status === "False",
          SETTLE,
        );
        // kubelet's condition is still there.
        expect(condition(await admin("GET", `/api/v1/nodes/${n}`), "Ready")?.status).toBe("True");
      }
      // A pod join: the agent enforces the plugin's IPs locally and writes nothing to the Pod.
      const before = await admin("GET", "/api/v1/namespaces/prod/pods/web");
      const res = await policyApi(
        a.agent,
        new Request("http://tartan-agent/v1/pods", {
          method: "POST",
          body: JSON.stringify({ namespace: "prod", name: "web", containerId: "c1", ips: ["10.244.0.5"] }),
        }),
      );
      expect(res!.status).toBe(200);
      const after = await admin("GET", "/api/v1/namespaces/prod/pods/web");
      expect(after.status).toEqual(before.status);
      expect(a.agent.policy!.pods.items.get("prod/web")?.status?.podIPs).toEqual([{ ip: "10.244.0.5" }]);
      // The node reclaimer's lease and each node's heartbeat lease are coordination.k8s.io Leases
      // in tartan-system; heartbeats do not touch the Nodes.
      const leaseNames = async () =>
        (await admin("GET", "/apis/coordination.k8s.io/v1/namespaces/tartan-system/leases"))
          .items!.map((l) => l.metadata.name)
          .sort()
          .join(" ");
      await eventually(
        "the reclaimer and heartbeat leases",
        async () => (await leaseNames()) === "heartbeat.k1 heartbeat.k2 node-reclaimer",
        SETTLE,
      );
      const nodeVersion = (await admin("GET", "/api/v1/nodes/k1")).metadata.resourceVersion;
      const beat = async () =>
        (await admin(
          "GET",
          "/apis/coordination.k8s.io/v1/namespaces/tartan-system/leases/heartbeat.k1",
        )) as unknown as {
          spec: { renewTime: string; holderIdentity: string };
        };
      const first = (await beat()).spec;
      expect(first.holderIdentity).toBe("k1");
      await eventually(
        "k1's lease renewed (heartbeatSeconds 1)",
        async () => (await beat()).spec.renewTime !== first.renewTime,
        SETTLE,
      );
      expect((await admin("GET", "/api/v1/nodes/k1")).metadata.resourceVersion).toBe(nodeVersion);
    } finally {
      await stopAll();
      await wipe();
    }
  }, 40_000);

  test("node-podcidr: the Nodes' spec.podCIDRs, no IPAMBlock; a Node without one is PodCIDRNotAssigned", async () => {
    await wipe();
    try {
      await kubeletNode("k1", ["10.9.1.0/24"]);
      await kubeletNode("k2");
      const clusterCidr = { ipam: { mode: "node-podcidr" }, pools: [{ cidr: "10.9.0.0/16" }] };
      const a = await startAgent("k1", "198.18.0.11", clusterCidr);
      // k2's config names another range: its pods' CIDR will be outside every pool it knows.
      const b = await startAgent("k2", "198.18.0.12", { ipam: { mode: "node-podcidr" } });
      await eventually(
        "k1's own pod CIDR",
        () =>
          a.agent.nodeBlocks
            .owned()
            .map((x) => x.spec.cidr)
            .join() === "10.9.1.0/24",
        SETTLE,
      );
      await eventually(
        "the conditions",
        async () =>
          condition(await admin("GET", "/api/v1/nodes/k1"), "NetworkUnavailable")?.status === "False" &&
          condition(await admin("GET", "/api/v1/nodes/k2"), "NetworkUnavailable")?.reason ===
            "PodCIDRNotAssigned",
        SETTLE,
      );
      expect(condition(await admin("GET", "/api/v1/nodes/k2"), "NetworkUnavailable")?.status).toBe("True");
      expect((await admin("GET", "/apis/tartan.dev/v1alpha1/ipamblocks")).items).toEqual([]);
      // The pools exist as objects (nothing claimed from them), and k1 masquerades what leaves them.
      const pools = (await admin("GET", "/apis/tartan.dev/v1alpha1/ippools")).items ?? [];
      expect(pools.map((p) => [p.metadata.name, p.spec?.cidr, p.spec?.natOutgoing]).sort()).toEqual([
        ["pool-10-9-0-0-16", "10.9.0.0/16", true],
        ["pool-a", "10.244.0.0/16", true],
      ]);
      await eventually(
        "k1's outgoing NAT covers the cluster CIDR",
        () =>
          a.nat.scripts.some((s) =>
            /add element inet tartan nat-from4 \{ [^}]*10\.9\.0\.0\/16/.test(s.script),
          ),
        SETTLE,
      );
      expect(a.logs.filter((l) => l.msg.startsWith("pod CIDRs in no configured pool"))).toEqual([]);
      // The controller manager assigns k2 one: k1 routes to it, k2's condition turns False.
      await admin(
        "PATCH",
        "/api/v1/nodes/k2",
        { spec: { podCIDR: "10.9.2.0/24", podCIDRs: ["10.9.2.0/24"] } },
        "application/merge-patch+json",
      );
      await eventually(
        "k1 routes to k2's pod CIDR",
        () => JSON.stringify(a.kernel.desired?.blocks).includes("10.9.2.0/24"),
        SETTLE,
      );
      await eventually(
        "k2 NetworkUnavailable=False",
        async () =>
          condition(await admin("GET", "/api/v1/nodes/k2"), "NetworkUnavailable")?.status === "False",
        SETTLE,
      );
      // k2 started without a pod CIDR: no warning then. Restarted with its CIDR, it warns.
      expect(b.logs.filter((l) => l.msg.startsWith("pod CIDRs in no configured pool"))).toEqual([]);
      const b2 = await startAgent("k2", "198.18.0.12", { ipam: { mode: "node-podcidr" } });
      expect(b2.logs.filter((l) => l.msg.startsWith("pod CIDRs in no configured pool"))).toEqual([
        {
          level: "warn",
          msg: "pod CIDRs in no configured pool: their traffic leaving the cluster is not masqueraded",
          fields: {
            podCidrs: ["10.9.2.0/24"],
            hint: "set the agent config's pools to the cluster CIDR (the controller manager's --cluster-cidr)",
          },
        },
      ]);
    } finally {
      await stopAll();
      await wipe();
    }
  }, 40_000);
});
