// The agent validates every object it ingests from the datastore (kind-mirror.ts, with the
// model's rules): objects written around `tartan apply` (straight into etcd) with control
// characters, quotes, overlong names, bad label syntax, addresses or CIDRs that do not parse are
// treated as absent, reported once per version (log, rejected list, metric, policy status), and
// never stop the rest: the node's policy keeps being applied. Objects are written with
// RawDatastore, which stores them as given, as an etcd client would.
import { afterEach, describe, expect, test } from "bun:test";
import { Agent } from "../../src/agent/agent.ts";
import { KindMirror, type RejectedObject } from "../../src/agent/kind-mirror.ts";
import { policyApi } from "../../src/agent/policy-api.ts";
import { policyManager } from "../../src/agent/policy-manager-adapter.ts";
import { routingManager } from "../../src/agent/routing-manager.ts";
import { FakeNft } from "../../src/dataplane/fake/fake-nft.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import type { Resource } from "../../src/model/resource.ts";
import { storedObjectErrors } from "../../src/model/validate-stored-object.ts";
import { TEST_UNDERLAY, TEST_VTEP_MAC, testAgentConfig } from "../harness/agent-fixtures.ts";
import { clusterNode, ipamBlock, ipPool } from "../harness/cluster-objects.ts";
import { FakeKernelPort } from "../harness/fake-kernel-port.ts";
import { namespace, netpol, pod } from "../harness/k8s-objects.ts";
import { ManualTimers } from "../harness/manual-timers.ts";
import { RawDatastore } from "../harness/raw-datastore.ts";

const NODE_SPEC = {
  underlayAddress: "198.18.0.3",
  underlaySubnet: "198.18.0.0/15",
  vtepMac: "02:00:00:00:00:03",
};
const withMeta = <T extends Resource>(o: T, m: Partial<Resource["metadata"]>): T => ({
  ...o,
  metadata: { ...o.metadata, ...m },
});
const fields = (o: unknown) => storedObjectErrors(o).map((e) => e.field);

describe("storedObjectErrors: what the agent refuses", () => {
  const web = pod("prod/web", ["10.0.0.1"], { labels: { app: "web" } });
  test("valid objects of every kind pass", () => {
    for (const o of [
      web,
      namespace("prod", { team: "a" }),
      netpol("prod/deny", { policyTypes: ["Ingress"] }),
      clusterNode("node-1", NODE_SPEC),
      ipamBlock("10.244.0.64/26", "node-1", "default-ipv4"),
      ipamBlock("fd44:7461:7274::40/122", "node-1", "default-ipv6"),
      ipPool("default-ipv4", "10.244.0.0/16", 26),
    ]) {
      expect(storedObjectErrors(o)).toEqual([]);
    }
  });

  test.each([
    ["newline in the name", withMeta(web, { name: "web\nflush ruleset" }), "metadata.name"],
    ["control character in the namespace", withMeta(web, { namespace: "pr\u0007od" }), "metadata.namespace"],
    ["quote in the name", withMeta(web, { name: 'we"b' }), "metadata.name"],
    ["name over 253 characters", withMeta(web, { name: "a".repeat(254) }), "metadata.name"],
    ["namespace over 63 characters", withMeta(web, { namespace: "n".repeat(64) }), "metadata.namespace"],
    ["label key with a space", withMeta(web, { labels: { "app name": "x" } }), "metadata.labels"],
    ["label key with two slashes", withMeta(web, { labels: { "a/b/c": "x" } }), "metadata.labels"],
    ["label value with a newline", withMeta(web, { labels: { app: "x\ny" } }), "metadata.labels[app]"],
    ["label value with quotes", withMeta(web, { labels: { app: 'say "hi"' } }), "metadata.labels[app]"],
    ["pod IP with a statement after it", pod("prod/web", ["10.0.0.1\nflush ruleset"]), "status.podIPs[0].ip"],
    ["pod IP out of range", pod("prod/web", ["10.0.0.300"]), "status.podIPs[0].ip"],
    ["pod IP with a leading space", pod("prod/web", [" 10.0.0.1"]), "status.podIPs[0].ip"],
    ["upper-case Namespace name", namespace("Prod"), "metadata.name"],
    ["NetworkPolicy name with a newline", netpol("prod/deny\n", {}), "metadata.name"],
    ["Node name with a newline", clusterNode("node\n1", NODE_SPEC), "metadata.name"],
    [
      "Node underlayAddress with more after it",
      clusterNode("node-1", { ...NODE_SPEC, underlayAddress: "198.18.0.3 dev lo" }),
      "spec.underlayAddress",
    ],
    [
      "Node underlaySubnet with a newline",
      clusterNode("node-1", { ...NODE_SPEC, underlaySubnet: "198.18.0.0/15\nroute flush all" }),
      "spec.underlaySubnet",
    ],
    [
      "Node vtepMac not a MAC",
      clusterNode("node-1", { ...NODE_SPEC, vtepMac: "02:00:00:00:00:03\n" }),
      "spec.vtepMac",
    ],
    ["IPAMBlock prefix too long", ipamBlock("10.244.0.0/33", "node-1", "p"), "spec.cidr"],
    ["IPAMBlock CIDR with a newline", ipamBlock("10.244.0.0/26\nx", "node-1", "p"), "spec.cidr"],
    ["IPAMBlock CIDR without prefix", ipamBlock("10.244.0.0", "node-1", "p"), "spec.cidr"],
    ["IPAMBlock owner not a node name", ipamBlock("10.244.0.0/26", "node 1", "p"), "spec.node"],
    ["IPPool block size 0", ipPool("p", "10.244.0.0/16", 0), "spec.blockSize"],
  ])("%s", (_what, obj, field) => {
    expect(fields(obj)).toContain(field);
  });

  test("a Node's or IPAMBlock's labels are read by nothing and refuse nothing (a Node refused loses its routes)", () => {
    expect(
      storedObjectErrors(withMeta(clusterNode("node-1", NODE_SPEC), { labels: { "a b": "x\ny" } })),
    ).toEqual([]);
  });

  test("shapes nothing can read are refused, not thrown", () => {
    expect(fields(null)).toEqual([""]);
    expect(fields({ kind: "Pod", apiVersion: "v1" }).length).toBeGreaterThan(0);
    expect(fields({ kind: "Node", apiVersion: "tartan.dev/v1alpha1", metadata: { name: "n" } })).toContain(
      "spec",
    );
  });

  test("a NetworkPolicy's spec is calc's to judge (its pods stay isolated), not a reason to drop it", () => {
    expect(storedObjectErrors(netpol("prod/bad", { ingress: [{ ports: [{ port: 0 }] }] }))).toEqual([]);
  });
});

describe("KindMirror ingestion", () => {
  const mirrors: KindMirror[] = [];
  afterEach(() => {
    for (const m of mirrors.splice(0)) m.stop();
  });

  function mirror(ds: RawDatastore, timers: ManualTimers) {
    const rejected: RejectedObject[] = [];
    let changes = 0;
    const m = new KindMirror(ds, "Pod", {
      onChange: () => changes++,
      onError: () => {},
      onRejected: (r) => rejected.push(r),
      setTimeout: timers.setTimeout,
      clearTimeout: timers.clearTimeout,
    });
    mirrors.push(m);
    return { m, rejected, changes: () => changes };
  }
  const settle = () => Bun.sleep(5);

  test("list and watch: a rejected object is absent, reported once per version, and blocks nothing", async () => {
    const ds = new RawDatastore();
    const timers = new ManualTimers();
    await ds.create(pod("prod/web", ["10.0.0.1"]));
    ds.putRaw(pod("prod/evil\nflush ruleset", ["10.0.0.66"]));
    const { m, rejected, changes } = mirror(ds, timers);
    await m.start();
    expect([...m.items.keys()]).toEqual(["prod/web"]);
    expect([...m.rejected.keys()]).toEqual(["prod/evil\nflush ruleset"]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.errors.map((e) => e.field)).toEqual(["metadata.name"]);

    // A valid object turned invalid: gone for the readers, like a delete.
    const before = changes();
    ds.putRaw(withMeta(pod("prod/web", ["10.0.0.1"]), { labels: { app: "x\ny" } }));
    await settle();
    expect(m.items.has("prod/web")).toBe(false);
    expect(m.rejected.has("prod/web")).toBe(true);
    expect(changes()).toBe(before + 1);
    expect(rejected).toHaveLength(2);

    // A re-list (the watch failed) reports nothing new: same versions.
    ds.breakWatches();
    timers.advance(60_000);
    await settle();
    expect(m.live).toBe(true);
    expect(rejected).toHaveLength(2);
    expect(m.rejected.size).toBe(2);

    // A new invalid version is reported; a valid one is accepted and leaves the rejected list.
    ds.putRaw(withMeta(pod("prod/web", ["10.0.0.1"]), { labels: { app: "y\nz" } }));
    await settle();
    expect(rejected).toHaveLength(3);
    ds.putRaw(pod("prod/web", ["10.0.0.1"], { labels: { app: "ok" } }));
    await settle();
    expect(m.items.get("prod/web")?.metadata.labels).toEqual({ app: "ok" });
    expect(m.rejected.has("prod/web")).toBe(false);

    // Deleting a rejected object clears it.
    await ds.delete("Pod", "web", "prod");
    await settle();
    expect(m.items.size).toBe(0);
    ds.breakWatches();
    timers.advance(60_000);
    await settle();
    expect([...m.rejected.keys()]).toEqual(["prod/evil\nflush ruleset"]);
  });
});

describe("the agent with poisoned objects in its datastore", () => {
  const agents: Agent[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
  });

  async function start(ds: RawDatastore) {
    const timers = new ManualTimers();
    const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const nft = new FakeNft();
    const kernel = new FakeKernelPort();
    const agent = new Agent({
      config: testAgentConfig("n1", { resyncSeconds: 60 }),
      ds,
      store: new MemoryIpamStore(),
      managers: [routingManager(kernel), policyManager({ nft, sctp: true })],
      underlay: TEST_UNDERLAY,
      vtepMac: TEST_VTEP_MAC,
      log: (level, msg, f) => logs.push({ level, msg, ...(f ? { fields: f } : {}) }),
      timers,
      now: () => timers.now,
    });
    agents.push(agent);
    await agent.start();
    await agent.idle();
    return { agent, logs, nft, kernel, timers };
  }

  const EVIL = "evil\n}\nflush ruleset";

  test("policy is applied for the valid objects; the poisoned ones are reported by log, metric and status", async () => {
    const ds = new RawDatastore();
    await ds.create(pod("prod/web", ["10.0.0.1"], { node: "n1", labels: { app: "web" } }));
    await ds.create(netpol("prod/default-deny", { policyTypes: ["Ingress"] }));
    ds.putRaw(pod(`prod/${EVIL}`, ["10.0.0.66"], { node: "n1" }));
    ds.putRaw(pod("prod/labelled", ["10.0.0.67"], { node: "n1", labels: { app: 'x"\ny' } }));
    ds.putRaw(clusterNode("node\nx", NODE_SPEC));
    ds.putRaw(ipamBlock("10.244.9.0/26\nroute flush all", "node-x", "p4"));
    const { agent, logs, nft, timers } = await start(ds);

    expect(agent.synced).toBe(true);
    const script = nft.scripts.map((s) => s.script).join("");
    expect(script).toContain("add chain inet tartan ing/prod/web");
    expect(script).not.toMatch(/evil|10\.0\.0\.6[67]|flush ruleset/);
    expect(agent.policy!.current().pods.map((p) => `${p.namespace}/${p.name}`)).toEqual(["prod/web"]);

    const rejected = agent.rejectedObjects().map((r) => `${r.kind} ${r.key}`);
    expect(rejected).toEqual([
      "IPAMBlock 10-244-9-0-26\nroute flush all",
      "Node node\nx",
      `Pod prod/${EVIL}`,
      "Pod prod/labelled",
    ]);
    const metrics = agent.metrics.render();
    expect(metrics).toContain('tartan_agent_rejected_objects{kind="Pod"} 2');
    expect(metrics).toContain('tartan_agent_rejected_objects{kind="Node"} 1');
    expect(metrics).toContain('tartan_agent_rejected_objects{kind="IPAMBlock"} 1');

    const rejectLogs = () => logs.filter((l) => l.msg.startsWith("object rejected"));
    expect(rejectLogs().map((l) => l.fields?.object)).toContain(`prod/${EVIL}`);
    expect(rejectLogs()).toHaveLength(4);
    // Resyncs and re-lists do not log the same versions again.
    ds.breakWatches();
    timers.advance(60_000);
    await Bun.sleep(5);
    await agent.idle();
    expect(rejectLogs()).toHaveLength(4);

    const res = await policyApi(agent, new Request("http://tartan-agent/v1/policy"));
    const body = (await res!.json()) as { problems: { object: string; code: string; message: string }[] };
    const problem = body.problems.find((p) => p.object === `prod/${EVIL}`);
    expect(problem?.code).toBe("object-rejected");
    expect(problem?.message).toContain("metadata.name");

    // A new policy change still goes in (the poisoned pod blocks nothing).
    const applied = nft.scripts.length;
    await ds.create(pod("prod/db", ["10.0.0.2"], { node: "n1" }));
    for (let i = 0; i < 50 && nft.scripts.length === applied; i++) await Bun.sleep(5);
    expect(nft.scripts.length).toBe(applied + 1);
    expect(nft.scripts.at(-1)!.script).toContain("ing/prod/db");
  });

  test("a CNI join for a Pod whose stored object is rejected fails closed", async () => {
    const ds = new RawDatastore();
    await ds.create(netpol("prod/default-deny", { policyTypes: ["Ingress"] }));
    ds.putRaw(pod("prod/web", [], { node: "n1", labels: { app: "x\ny" } }));
    const { agent } = await start(ds);
    const res = await policyApi(
      agent,
      new Request("http://tartan-agent/v1/pods", {
        method: "POST",
        body: JSON.stringify({ namespace: "prod", name: "web", containerId: "c1", ips: ["10.0.0.5"] }),
      }),
    );
    expect(res!.status).toBe(503);
    const body = (await res!.json()) as { code: string; message: string };
    expect(body.code).toBe("policy-not-applied");
    expect(body.message).toContain("metadata.labels[app]");
  });
});
