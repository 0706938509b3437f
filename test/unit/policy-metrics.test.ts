import { describe, expect, test } from "bun:test";
import { PolicyMetrics } from "../../src/agent/policy-metrics.ts";
import { compilePolicy } from "../../src/calc/compile-policy.ts";
import type { NetworkPolicyResource, PodResource } from "../../src/model/k8s-resources.ts";

const pod = (name: string, ip: string, labels: Record<string, string>, node = "n1"): PodResource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", labels },
  spec: { nodeName: node },
  status: { phase: "Running", podIPs: [{ ip }] },
});
const policy = (name: string, from: Record<string, string>): NetworkPolicyResource => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace: "default" },
  spec: {
    podSelector: { matchLabels: { app: "web" } },
    ingress: [{ from: [{ podSelector: { matchLabels: from } }] }],
  },
});

const gauge = (text: string, name: string): number =>
  Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);

describe("PolicyMetrics", () => {
  test("the IR's gauges follow the IR observed, counted once per IR", () => {
    const m = new PolicyMetrics();
    expect(gauge(m.render(), "tartan_policy_sets")).toBe(0);
    const pods = [
      pod("w1", "10.0.0.1", { app: "web" }),
      pod("c1", "10.0.0.2", { app: "client" }, "n2"),
      pod("c2", "10.0.0.3", { app: "client" }, "n2"),
    ];
    const ir1 = compilePolicy({
      nodeName: "n1",
      pods,
      namespaces: [],
      policies: [policy("p1", { app: "client" })],
    });
    m.observe(ir1);
    const t1 = m.render();
    const elements1 = [...ir1.sets.values()].reduce((n, s) => n + s.elements.length, 0);
    expect(gauge(t1, "tartan_policy_sets")).toBe(ir1.sets.size);
    expect(gauge(t1, "tartan_policy_set_elements")).toBe(elements1);
    expect(gauge(t1, 'tartan_policy_isolated_pods\\{direction="ingress"\\}')).toBe(1);
    expect(gauge(t1, 'tartan_policy_isolated_pods\\{direction="egress"\\}')).toBe(0);
    expect(m.render()).toBe(t1);

    // A new IR (one more client) is counted again; counters still move between renders.
    const ir2 = compilePolicy({
      nodeName: "n1",
      pods: [...pods, pod("c3", "10.0.0.4", { app: "client" }, "n2")],
      namespaces: [],
      policies: [policy("p1", { app: "client" })],
    });
    m.observe(ir2);
    m.applies = 3;
    const t2 = m.render();
    expect(gauge(t2, "tartan_policy_set_elements")).toBe(elements1 + 1);
    expect(gauge(t2, "tartan_policy_applies_total")).toBe(3);
  });
});
