// The agent in Kubernetes mode (decision 0015), against the memory datastore: it never writes
// Pods (kubelet owns Pod status; the plugin's IPs stay local until kubelet's arrive), it publishes
// NetworkUnavailable=False once its first applies are done, and `ipam.mode: node-podcidr` takes
// the Nodes' spec.podCIDRs instead of claiming blocks ("pod CIDR not assigned" said clearly).
import { afterEach, describe, expect, test } from "bun:test";
import { Agent } from "../../src/agent/agent.ts";
import { agentApi } from "../../src/agent/agent-api.ts";
import { parseAgentConfig } from "../../src/agent/agent-config.ts";
import { PodCidrBlocks } from "../../src/agent/pod-cidr-blocks.ts";
import { policyApi } from "../../src/agent/policy-api.ts";
import { policyManager } from "../../src/agent/policy-manager-adapter.ts";
import { routingManager } from "../../src/agent/routing-manager.ts";
import { FakeNft } from "../../src/dataplane/fake/fake-nft.ts";
import type { NodeNetworkCondition, WatchEvent } from "../../src/datastore/datastore.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { KINDS, type NodeResource } from "../../src/model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../../src/model/resource.ts";
import { TEST_UNDERLAY, TEST_VTEP_MAC, testAgentConfig } from "../harness/agent-fixtures.ts";
import { eventually } from "../harness/eventually.ts";
import { FakeKernelPort } from "../harness/fake-kernel-port.ts";
import { netpol, pod } from "../harness/k8s-objects.ts";
import { ManualTimers } from "../harness/manual-timers.ts";

/** A memory datastore with the Kubernetes adapter's extra: the node network condition. */
class ConditionDatastore extends MemoryDatastore {
  readonly conditions: { node: string; c: NodeNetworkCondition }[] = [];
  readonly podWrites: string[] = [];
  async setNodeNetworkCondition(node: string, c: NodeNetworkCondition): Promise<void> {
    this.conditions.push({ node, c });
  }
  override async create(obj: Parameters<MemoryDatastore["create"]>[0]) {
    if (obj?.kind === "Pod") this.podWrites.push(`create ${obj.metadata.name}`);
    return super.create(obj);
  }
  override async update(obj: Parameters<MemoryDatastore["update"]>[0]) {
    if (obj?.kind === "Pod") this.podWrites.push(`update ${obj.metadata.name}`);
    return super.update(obj);
  }
}

const K8S = { datastore: { type: "kubernetes", kubeconfig: "/unused/kubeconfig" } };

const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});

async function start(ds: MemoryDatastore | PodCidrBlocks, over: Record<string, unknown> = {}) {
  const timers = new ManualTimers();
  const nft = new FakeNft();
  const kernel = new FakeKernelPort();
  const agent = new Agent({
    config: testAgentConfig("n1", { ...K8S, ...over }),
    ds,
    store: new MemoryIpamStore(),
    managers: [routingManager(kernel), policyManager({ nft, sctp: true })],
    underlay: TEST_UNDERLAY,
    vtepMac: TEST_VTEP_MAC,
    log: () => {},
    timers,
    now: () => timers.now,
  });
  agents.push(agent);
  await agent.start();
  await agent.idle();
  return { agent, nft, kernel, timers };
}

const join = (agent: Agent, method: "POST" | "DELETE", ips: string[] = ["10.244.0.5"]) =>
  policyApi(
    agent,
    new Request("http://tartan-agent/v1/pods", {
      method,
      body: JSON.stringify({ namespace: "prod", name: "web", containerId: "c1", ips }),
    }),
  );

describe("agent config, Kubernetes mode", () => {
  test("datastore.type kubernetes; nodeName from NODE_NAME; node-podcidr only with kubernetes", () => {
    const text = (extra: string) =>
      `underlayInterface: eth0\ndatastore: {type: kubernetes, inCluster: true}\n${extra}`;
    const c = parseAgentConfig(text("ipam: {mode: node-podcidr}"), "f", { NODE_NAME: "worker-1" });
    expect(c.nodeName).toBe("worker-1");
    expect(c.datastore).toEqual({ type: "kubernetes" });
    expect(c.ipam).toEqual({ mode: "node-podcidr" });
    expect(parseAgentConfig(text(""), "f", { NODE_NAME: "w" }).ipam).toEqual({ mode: "blocks" });
    expect(() => parseAgentConfig(text(""), "f", {})).toThrow(
      /nodeName: required \(or set the environment variable NODE_NAME\)/,
    );
    expect(() => parseAgentConfig(text(""), "f", { NODE_NAME: "Bad_Name" })).toThrow(/NODE_NAME/);
    expect(() =>
      parseAgentConfig(
        "nodeName: n\nunderlayInterface: eth0\ndatastore: {type: local, path: /x}\nipam: {mode: node-podcidr}",
      ),
    ).toThrow(/ipam.mode: node-podcidr needs datastore.type kubernetes/);
    expect(() =>
      parseAgentConfig(text("").replace("inCluster: true", "kubeconfig: relative"), "f", { NODE_NAME: "w" }),
    ).toThrow(/absolute path/);
  });
});

describe("agent, Kubernetes mode", () => {
  test("a pod join writes no Pod: the plugin's IPs are enforced from the local overlay until kubelet's arrive", async () => {
    const ds = new ConditionDatastore();
    const web = await ds.create(pod("prod/web", [], { node: "n1", labels: { app: "web" } }));
    await ds.create(netpol("prod/deny", { policyTypes: ["Ingress"] }));
    const { agent, nft } = await start(ds);
    ds.podWrites.length = 0;
    const res = await join(agent, "POST");
    expect(res!.status).toBe(200);
    expect(ds.podWrites).toEqual([]);
    expect((await ds.get("Pod", "web", "prod"))?.status).toEqual(web.status);
    const ips = () => agent.policy!.pods.items.get("prod/web")?.status?.podIPs?.map((x) => x.ip);
    expect(ips()).toEqual(["10.244.0.5"]);
    expect(nft.scripts.at(-1)!.script).toContain("10.244.0.5");
    // kubelet's own status update without IPs (e.g. a condition) keeps the overlay's.
    const cur = (await ds.get("Pod", "web", "prod"))!;
    await ds.update({ ...cur, metadata: { ...cur.metadata, labels: { app: "web", v: "2" } } });
    ds.podWrites.length = 0; // that was kubelet (the test), not the agent
    await eventually(
      "the label change",
      () => agent.policy!.pods.items.get("prod/web")?.metadata.labels?.v === "2",
      {
        timeoutMs: 2000,
        intervalMs: 5,
      },
    );
    expect(ips()).toEqual(["10.244.0.5"]);
    // CNI DEL: the overlay goes, and still no Pod write.
    expect((await join(agent, "DELETE"))!.status).toBe(200);
    expect(agent.policy!.localPodIps.size).toBe(0);
    expect(ips() ?? []).toEqual([]);
    expect(ds.podWrites).toEqual([]);
  });

  test("NetworkUnavailable=False once the first sync's applies are done, written once", async () => {
    const ds = new ConditionDatastore();
    const { agent } = await start(ds);
    await eventually("the condition", () => ds.conditions.length > 0, { timeoutMs: 2000, intervalMs: 5 });
    expect(ds.conditions).toEqual([
      { node: "n1", c: { available: true, reason: "TartanIsUp", message: expect.any(String) } },
    ]);
    await agent.heartbeat();
    expect(ds.conditions.length).toBe(1);
  });

  test("an etcd-mode agent still writes the Pod's IPs", async () => {
    const ds = new ConditionDatastore();
    await ds.create(pod("prod/web", [], { node: "n1" }));
    const timers = new ManualTimers();
    const agent = new Agent({
      config: testAgentConfig("n1"),
      ds,
      store: new MemoryIpamStore(),
      managers: [policyManager({ nft: new FakeNft(), sctp: true })],
      underlay: TEST_UNDERLAY,
      vtepMac: TEST_VTEP_MAC,
      log: () => {},
      timers,
      now: () => timers.now,
    });
    agents.push(agent);
    await agent.start();
    ds.podWrites.length = 0;
    expect((await join(agent, "POST"))!.status).toBe(200);
    expect(ds.podWrites).toEqual(["update web"]);
  });
});

describe("ipam.mode node-podcidr", () => {
  const k8sNode = (name: string, address: string, podCIDRs?: string[]): NodeResource => ({
    apiVersion: TARTAN_API_VERSION,
    kind: KINDS.node,
    metadata: { name },
    spec: { underlayAddress: address, underlaySubnet: "198.18.0.0/15", ...(podCIDRs ? { podCIDRs } : {}) },
  });

  test("IPAMBlocks are the Nodes' pod CIDRs: list, watch (added, changed, removed), writes refused", async () => {
    const mem = new MemoryDatastore();
    const ds = new PodCidrBlocks(mem);
    await mem.create(k8sNode("n1", "198.18.0.1", ["10.9.1.0/24", "fd00:9:1::/64"]));
    await mem.create(k8sNode("n2", "198.18.0.2"));
    const l = await ds.list(KINDS.ipamBlock);
    expect(
      l.items.map((b) => `${(b.spec as { cidr: string }).cidr}@${(b.spec as { node: string }).node}`),
    ).toEqual(["10.9.1.0/24@n1", "fd00:9:1::/64@n1"]);
    const events: WatchEvent[] = [];
    const h = ds.watch(KINDS.ipamBlock, l.revision, (e) => events.push(e));
    const n2 = (await mem.get(KINDS.node, "n2")) as NodeResource;
    await mem.update({ ...n2, spec: { ...n2.spec, podCIDRs: ["10.9.2.0/24"] } });
    const n1 = (await mem.get(KINDS.node, "n1")) as NodeResource;
    await mem.update({ ...n1, spec: { ...n1.spec, podCIDRs: ["10.9.1.0/24"] } });
    await mem.delete(KINDS.node, "n2");
    await eventually("3 events", () => events.length >= 3, { timeoutMs: 2000, intervalMs: 5 });
    await Bun.sleep(20);
    h.close();
    expect(events.map((e) => `${e.type} ${(e.object.spec as { cidr: string }).cidr}`)).toEqual([
      "ADDED 10.9.2.0/24",
      "DELETED fd00:9:1::/64",
      "DELETED 10.9.2.0/24",
    ]);
    expect((await ds.create({ ...l.items[0]!, metadata: { name: "x" } }).catch((e) => e)).message).toContain(
      "node-podcidr",
    );
  });

  test("the agent claims nothing, allocates from its pod CIDR, routes to the others'; no pod CIDR is said clearly", async () => {
    const mem = new ConditionDatastore();
    await mem.create(k8sNode("n2", "198.18.0.3", ["10.9.2.0/24"]));
    const ds = new PodCidrBlocks(mem);
    const { agent, kernel } = await start(ds as unknown as MemoryDatastore, {
      ipam: { mode: "node-podcidr" },
    });
    await eventually("a condition", () => mem.conditions.length > 0, { timeoutMs: 2000, intervalMs: 5 });
    // n1 registered without podCIDRs (no controller manager assigned one).
    expect(mem.conditions.at(-1)!.c).toMatchObject({ available: false, reason: "PodCIDRNotAssigned" });
    expect(mem.conditions.at(-1)!.c.message).toContain("--allocate-node-cidrs");
    const status = (await (await agentApi(agent)(new Request("http://tartan-agent/v1/status"))).json()) as {
      network: { available: boolean; reason: string };
    };
    expect(status.network).toMatchObject({ available: false, reason: "PodCIDRNotAssigned" });
    expect((await mem.list(KINDS.ipamBlock)).items).toEqual([]);
    // The config's pool is created (it names the cluster CIDR, for outgoing NAT); no block from it.
    expect((await mem.list(KINDS.ipPool)).items.map((p) => [p.metadata.name, p.spec])).toEqual([
      ["p4", { cidr: "10.244.0.0/24", blockSize: 26, natOutgoing: true }],
    ]);
    // The controller manager assigns one.
    const n1 = (await mem.get(KINDS.node, "n1")) as NodeResource;
    await mem.update({ ...n1, spec: { ...n1.spec, podCIDRs: ["10.9.1.0/24"] } });
    await eventually("the own block", () => agent.nodeBlocks.owned().length === 1, {
      timeoutMs: 2000,
      intervalMs: 5,
    });
    await agent.heartbeat();
    expect(mem.conditions.at(-1)!.c).toMatchObject({ available: true, reason: "TartanIsUp" });
    await agent.idle();
    expect(agent.nodeBlocks.syncLocal()).toEqual(["10.9.1.0/24"]);
    expect(JSON.stringify(kernel.desired)).toContain("10.9.2.0/24");
    expect((await mem.list(KINDS.ipamBlock)).items).toEqual([]);
  });
});
