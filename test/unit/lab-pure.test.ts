// The lab's pure parts: underlay plan, names and pod references, node CNI configs, matrix
// rendering (its commands' arguments: test/unit/cli-command-table.test.ts). The real lab
// (namespaces, etcd, agents, the plugin) is covered by test/e2e/lab.test.ts.
import { describe, expect, test } from "bun:test";
import { parsePodRef } from "../../src/cli/pod-ref.ts";
import { formatMatrix } from "../../src/lab/format-matrix.ts";
import { labPaths } from "../../src/lab/lab-paths.ts";
import { nodeNetConf } from "../../src/lab/node-netconf.ts";
import { podNetnsName } from "../../src/lab/pod-netns-name.ts";
import { planUnderlay } from "../../src/lab/underlay-plan.ts";

describe("planUnderlay", () => {
  test("one subnet: a bridge, nodes at .11, .12, .13 with the fabric as gateway", () => {
    const p = planUnderlay((i) => `tl-x-node-${i}`, 3, 1);
    expect(p.bridges).toEqual([{ name: "br0", cidr: "198.18.0.0/24", gateway: "198.18.0.1" }]);
    expect(p.nodes.map((n) => [n.name, n.address, n.gateway, n.bridge])).toEqual([
      ["node-1", "198.18.0.11", "198.18.0.1", "br0"],
      ["node-2", "198.18.0.12", "198.18.0.1", "br0"],
      ["node-3", "198.18.0.13", "198.18.0.1", "br0"],
    ]);
    expect(p.fabricLines).toContain("link add nd2 mtu 1500 type veth peer name eth0 netns tl-x-node-2");
    expect(p.nodes[0]!.nodeLines).toContain("route add default via 198.18.0.1 dev eth0");
  });

  test("two subnets: nodes alternate between the bridges", () => {
    const p = planUnderlay((i) => `n${i}`, 3, 2);
    expect(p.bridges.map((b) => b.cidr)).toEqual(["198.18.0.0/24", "198.18.1.0/24"]);
    expect(p.nodes.map((n) => n.address)).toEqual(["198.18.0.11", "198.18.1.12", "198.18.0.13"]);
    expect(p.nodes[1]!.nodeLines).toContain("route add default via 198.18.1.1 dev eth0");
  });

  test("everything stays inside 198.18.0.0/15", () => {
    const p = planUnderlay((i) => `n${i}`, 200, 2);
    for (const n of p.nodes) expect(n.address).toMatch(/^198\.1[89]\.\d+\.\d+$/);
    expect(() => planUnderlay((i) => `n${i}`, 0, 1)).toThrow();
    expect(() => planUnderlay((i) => `n${i}`, 3, 3)).toThrow();
  });
});

describe("names", () => {
  test("lab names have no '-', so tl-<lab>- prefixes never overlap", () => {
    expect(labPaths("tartan", "/r").fabricNetns).toBe("tl-tartan-fabric");
    expect(labPaths("lab2", "/r").nodeNetns(3)).toBe("tl-lab2-node-3");
    expect(labPaths("lab2", "/r").stateFile).toBe("/r/lab2/lab.json");
    for (const bad of ["a-b", "", "A", "x".repeat(17), "../x"]) expect(() => labPaths(bad, "/r")).toThrow();
  });

  test("pod refs: POD or NAMESPACE/POD", () => {
    expect(parsePodRef("web")).toEqual({ namespace: "default", name: "web" });
    expect(parsePodRef("prod/web")).toEqual({ namespace: "prod", name: "web" });
    expect(parsePodRef("web", "kube-system")).toEqual({ namespace: "kube-system", name: "web" });
    expect(() => parsePodRef("Web")).toThrow();
    expect(() => parsePodRef("a/b/c")).toThrow();
    expect(() => parsePodRef("prod/web", "dev")).toThrow("names namespace prod, but -n says dev");
    expect(parsePodRef("prod/web", "prod")).toEqual({ namespace: "prod", name: "web" });
  });

  test("pod namespaces: readable when unambiguous, hashed otherwise", () => {
    expect(podNetnsName("tl-x-", { namespace: "default", name: "web" })).toBe("tl-x-p-default-web");
    const a = podNetnsName("tl-x-", { namespace: "a-b", name: "c" });
    const b = podNetnsName("tl-x-", { namespace: "a", name: "b-c" });
    expect(a).not.toBe(b);
    const long = podNetnsName("tl-x-", { namespace: "default", name: "x".repeat(60) });
    expect(long.length).toBeLessThanOrEqual(48);
    expect(long.startsWith("tl-x-p-")).toBe(true);
  });
});

test("node netconf: routed, per-node dirs, node blocks with an agent, a fixed /24 without", () => {
  const base = { network: "tartan-lab", nodeIndex: 2, nodeDir: "/run/tartan-lab/x/node-2" };
  const withAgent = nodeNetConf({ ...base, backend: "vxlan", withAgent: true });
  expect(withAgent).toMatchObject({ mode: "routed", mtu: 1450 });
  expect(withAgent.ipam).toEqual({
    type: "tartan-ipam",
    nodeBlocks: true,
    agentSocket: "/run/tartan-lab/x/node-2/agent.sock",
    dataDir: "/run/tartan-lab/x/node-2/ipam",
  });
  const alone = nodeNetConf({ ...base, backend: "host-gw", withAgent: false });
  expect(alone.mtu).toBe(1500);
  expect(alone.ipam).toMatchObject({ ranges: [[{ subnet: "10.244.2.0/24" }]] });
});

test("formatMatrix: a ✓/✗ grid and the failures spelled out", () => {
  const out = formatMatrix({
    name: "x",
    pods: [
      { pod: "default/a", node: "node-1", ips: ["10.244.0.2/32"] },
      { pod: "default/b", node: "node-2", ips: ["10.244.0.66/32"] },
    ],
    cells: [
      { from: "default/a", to: "default/b", ip: "10.244.0.66", ping: true, tcp: true },
      { from: "default/b", to: "default/a", ip: "10.244.0.2", ping: true, tcp: false, error: "refused" },
    ],
    ok: false,
    passed: 1,
    total: 2,
    deniedByPolicy: 0,
  });
  const lines = out.split("\n");
  expect(lines[1]).toBe("default/a (node-1)  ·          ✓/✓");
  expect(lines[2]).toBe("default/b (node-2)  ✓/✗        ·");
  expect(out).toContain("1/2 reachable");
  expect(out).toContain("default/b → default/a 10.244.0.2: ping ok, tcp failed (refused)");
});

test("formatMatrix: a pair denied by NetworkPolicy is expected (⊘, naming the policy), one let through is a failure", () => {
  const pods = [
    { pod: "x/a", node: "node-1", ips: ["10.244.0.2/32"] },
    { pod: "x/b", node: "node-2", ips: ["10.244.0.66/32"] },
  ];
  const deny = { ping: false, tcp: false, deniedBy: ["x/deny-all (ingress of x/a)"] };
  const out = formatMatrix({
    name: "x",
    pods,
    cells: [
      { from: "x/a", to: "x/b", ip: "10.244.0.66", ping: true, tcp: true, policy: { ping: true, tcp: true } },
      { from: "x/b", to: "x/a", ip: "10.244.0.2", ping: false, tcp: false, error: "no answer", policy: deny },
    ],
    ok: true,
    passed: 1,
    total: 2,
    deniedByPolicy: 1,
  });
  const lines = out.split("\n");
  expect(lines[2]).toBe("x/b (node-2)  ⊘/⊘      ·");
  expect(out).toContain("1/2 reachable, 1 denied by policy");
  expect(out).not.toContain("FAILURES");
  expect(out).toContain("  x/b → x/a 10.244.0.2: ping failed, tcp failed: x/deny-all (ingress of x/a)");
  const leaked = formatMatrix({
    name: "x",
    pods,
    cells: [{ from: "x/b", to: "x/a", ip: "10.244.0.2", ping: true, tcp: true, policy: deny }],
    ok: false,
    passed: 1,
    total: 1,
    deniedByPolicy: 0,
  });
  expect(leaked).toContain("FAILURES");
  expect(leaked).toContain(
    "x/b → x/a 10.244.0.2: ping ok, tcp ok — policy says ping denied, tcp denied by x/deny-all (ingress of x/a)",
  );
});
