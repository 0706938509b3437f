import { describe, expect, test } from "bun:test";
import { stripPod } from "../../src/agent/policy-manager.ts";
import type { PodResource } from "../../src/model/k8s-resources.ts";
import type { Resource } from "../../src/model/resource.ts";

// The strip as it was written with spreads before it was built field by field: the field-by-field
// one must give the same object, key order included (the mirror compares pods by their JSON).
function referenceStrip(o: Resource): PodResource {
  const p = o as PodResource;
  const m = p.metadata;
  const ann = Object.entries(m.annotations ?? {}).filter(([k]) => k.startsWith("tartan.dev/"));
  const spec = p.spec;
  const status = p.status;
  return {
    apiVersion: p.apiVersion,
    kind: p.kind,
    metadata: {
      name: m.name,
      ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.uid !== undefined ? { uid: m.uid } : {}),
      ...(m.labels !== undefined ? { labels: m.labels } : {}),
      ...(ann.length ? { annotations: Object.fromEntries(ann) } : {}),
    },
    spec: {
      ...(spec?.nodeName !== undefined ? { nodeName: spec.nodeName } : {}),
      ...(spec?.hostNetwork !== undefined ? { hostNetwork: spec.hostNetwork } : {}),
      ...(spec?.containers
        ? {
            containers: spec.containers.map((c) => ({
              name: c.name,
              ...(c.ports
                ? {
                    ports: c.ports.map((cp) => ({
                      ...(cp.name !== undefined ? { name: cp.name } : {}),
                      containerPort: cp.containerPort,
                      ...(cp.protocol !== undefined ? { protocol: cp.protocol } : {}),
                    })),
                  }
                : {}),
            })),
          }
        : {}),
    },
    ...(status
      ? {
          status: {
            ...(status.phase !== undefined ? { phase: status.phase } : {}),
            ...(status.podIPs ? { podIPs: status.podIPs.map((x) => ({ ip: x.ip })) } : {}),
          },
        }
      : {}),
  } as PodResource;
}

const full = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web-1",
    namespace: "shop",
    resourceVersion: "42",
    uid: "u-1",
    labels: { app: "web" },
    annotations: { "tartan.dev/container-id": "abc", "kubectl.kubernetes.io/last-applied": "{}" },
    managedFields: [{ manager: "kubelet" }],
    creationTimestamp: "2026-12-05T00:00:00Z",
  },
  spec: {
    nodeName: "node-1",
    hostNetwork: false,
    volumes: [{ name: "v" }],
    containers: [
      {
        name: "c",
        image: "x",
        env: [{ name: "A", value: "b" }],
        ports: [
          { name: "http", containerPort: 80, protocol: "TCP", hostPort: 8080 },
          { containerPort: 53, protocol: "UDP" },
          { containerPort: 9000 },
        ],
      },
      { name: "side" },
    ],
  },
  status: {
    phase: "Running",
    podIPs: [{ ip: "10.0.0.1", extra: 1 }, { ip: "fd00::1" }],
    conditions: [{ type: "Ready" }],
    hostIP: "1.2.3.4",
  },
};

describe("stripPod", () => {
  const cases: [string, unknown][] = [
    ["a kubelet-written pod", full],
    ["a minimal pod", { apiVersion: "v1", kind: "Pod", metadata: { name: "a" }, spec: {} }],
    ["no spec, no status", { apiVersion: "v1", kind: "Pod", metadata: { name: "a", namespace: "n" } }],
    [
      "only foreign annotations, empty lists",
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "a", annotations: { "x.io/y": "z" }, labels: {} },
        spec: { containers: [] },
        status: { podIPs: [] },
      },
    ],
    [
      "status without phase, hostNetwork pod",
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "a" },
        spec: { hostNetwork: true, nodeName: "n1" },
        status: { hostIP: "1.1.1.1" },
      },
    ],
  ];
  for (const [what, pod] of cases) {
    test(`${what}: the same object, keys in the same order`, () => {
      const got = stripPod(structuredClone(pod) as Resource);
      const want = referenceStrip(structuredClone(pod) as Resource);
      expect(got).toEqual(want);
      expect(JSON.stringify(got)).toBe(JSON.stringify(want));
    });
  }

  test("drops every field policy and the join API do not read", () => {
    const got = stripPod(structuredClone(full) as Resource);
    expect(got.metadata.annotations).toEqual({ "tartan.dev/container-id": "abc" });
    expect(JSON.stringify(got)).not.toContain("managedFields");
    expect(JSON.stringify(got)).not.toContain("image");
    expect(JSON.stringify(got)).not.toContain("hostPort");
    expect(JSON.stringify(got)).not.toContain("conditions");
    expect(got.status?.podIPs).toEqual([{ ip: "10.0.0.1" }, { ip: "fd00::1" }]);
  });

  test("a shape the strip cannot read throws, as before (the mirror rejects it as unreadable)", () => {
    const bad: unknown[] = [
      { apiVersion: "v1", kind: "Pod", metadata: { name: "a" }, spec: { containers: {} } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "a" }, spec: { containers: [{ ports: "x" }] } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "a" }, spec: {}, status: { podIPs: "x" } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "a" }, spec: {}, status: { podIPs: [null] } },
      { apiVersion: "v1", kind: "Pod", metadata: null },
    ];
    for (const b of bad) {
      expect(() => referenceStrip(structuredClone(b) as Resource)).toThrow();
      expect(() => stripPod(structuredClone(b) as Resource)).toThrow();
    }
  });
});
