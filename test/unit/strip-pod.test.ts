import { heapStats } from "bun:jsc";
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
      // uid: dropped since 2026-12-05 (sixth session): nothing in the agent reads it.
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

  test("pods with the same labels, containers and node share one frozen copy of each", () => {
    const a = stripPod(structuredClone(full) as Resource);
    const other = structuredClone(full);
    other.metadata.name = "web-2";
    other.status.podIPs = [{ ip: "10.0.0.2", extra: 1 }, { ip: "fd00::2" }];
    const b = stripPod(other as Resource);
    expect(b.metadata.labels).toBe(a.metadata.labels!);
    expect(b.spec.containers).toBe(a.spec.containers!);
    expect(b.spec).toBe(a.spec);
    expect(b.status).not.toBe(a.status!);
    for (const shared of [a.metadata.labels, a.spec, a.spec.containers, a.spec.containers![0]!.ports![0]])
      expect(Object.isFrozen(shared)).toBe(true);
    // Frozen: a reader writing into a shared part fails instead of changing every pod.
    expect(() => {
      (a.metadata.labels as Record<string, string>).app = "db";
    }).toThrow();
    expect(b.metadata.labels).toEqual({ app: "web" });
  });

  test("the caller's objects are never frozen or shared", () => {
    const raw = structuredClone(full);
    const got = stripPod(raw as Resource);
    expect(got.metadata.labels).not.toBe(raw.metadata.labels);
    expect(Object.isFrozen(raw.metadata.labels)).toBe(false);
    raw.metadata.labels.app = "changed";
    expect(got.metadata.labels).toEqual({ app: "web" });
  });

  test("different labels, label order, containers or node: not shared", () => {
    const base = stripPod(structuredClone(full) as Resource);
    const variant = (f: (p: typeof full) => void) => {
      const p = structuredClone(full);
      f(p);
      return stripPod(p as Resource);
    };
    const relabelled = variant((p) => {
      p.metadata.labels = { app: "web", tier: "a" } as typeof p.metadata.labels;
    });
    expect(relabelled.metadata.labels).toEqual({ app: "web", tier: "a" });
    expect(relabelled.metadata.labels).not.toBe(base.metadata.labels!);
    const twoA = variant((p) => {
      p.metadata.labels = { x: "1", y: "2" } as unknown as typeof p.metadata.labels;
    });
    const twoB = variant((p) => {
      p.metadata.labels = { y: "2", x: "1" } as unknown as typeof p.metadata.labels;
    });
    // Key order is kept: the mirror compares pods by their JSON text.
    expect(JSON.stringify(twoB.metadata.labels)).toBe('{"y":"2","x":"1"}');
    expect(twoB.metadata.labels).not.toBe(twoA.metadata.labels!);
    const moved = variant((p) => {
      p.spec.nodeName = "node-2";
    });
    expect(moved.spec).not.toBe(base.spec);
    expect(moved.spec.containers).toBe(base.spec.containers!);
    const reported = variant((p) => {
      p.spec.containers[0]!.ports![0]!.containerPort = 81;
    });
    expect(reported.spec.containers).not.toBe(base.spec.containers!);
    expect(reported.spec.containers![0]!.ports![0]!.containerPort).toBe(81);
  });

  test("labels that are not strings are kept as they are, for validation to refuse", () => {
    const odd = { app: 7 };
    const p = stripPod({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "a", labels: odd },
      spec: {},
    } as unknown as Resource);
    expect(p.metadata.labels as unknown).toBe(odd);
  });

  test("pods of one namespace share its text: one string fewer per pod", () => {
    // Text identity is not visible to JS: the JS heap's count of strings shows it. Pods parsed
    // from JSON one by one, as the datastore gives them, each with a name, IP and version of its own.
    const n = 2000;
    const texts = Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: `p-${i}`,
          namespace: `bench-ns-${String(i % 50).padStart(2, "0")}`,
          labels: { app: `app-${i % 20}`, tier: "web" },
          resourceVersion: String(100000 + i),
        },
        spec: { nodeName: `node-${i % 10}`, containers: [{ name: "c" }] },
        status: { phase: "Running", podIPs: [{ ip: `10.244.${128 + (i >> 8)}.${i % 256}` }] },
      }),
    );
    const strings = () => {
      Bun.gc(true);
      return (heapStats().objectTypeCounts as Record<string, number>).string ?? 0;
    };
    const before = strings();
    const kept = texts.map((t) => stripPod(JSON.parse(t) as Resource));
    const perPod = (strings() - before) / n;
    // Without the sharing it is ~3.1 here (JavaScriptCore's JSON parser shares some short texts
    // by itself, not these): the namespace was one of them.
    expect(perPod).toBeLessThan(2.6);
    expect(kept[5]!.metadata.namespace).toBe("bench-ns-05");
    const odd = stripPod({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "a", namespace: 7 },
      spec: {},
    } as unknown as Resource);
    expect(odd.metadata.namespace as unknown).toBe(7);
  });

  test("containers looked up from the object's fields: absent and undefined fields kept apart", () => {
    const pod = (containers: unknown, extra: Record<string, unknown> = {}): Resource =>
      ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "a", namespace: "ns" },
        spec: { nodeName: "n1", containers, ...extra },
      }) as unknown as Resource;
    const shapes: unknown[] = [
      [{ name: "c" }],
      [{ name: "c", ports: [] }],
      [{ name: "c", ports: [{ containerPort: 80 }] }],
      [{ name: "c", ports: [{ containerPort: 80, protocol: "TCP" }] }],
      [{ name: "c", ports: [{ name: "http", containerPort: 80 }] }],
      [{ name: "c", ports: [{ name: "http", containerPort: 80, protocol: "TCP" }] }],
      [{ name: "c", ports: [{ name: "http", containerPort: 81, protocol: "TCP" }] }],
      [{ name: "c" }, { name: "d" }],
      [],
    ];
    const got = shapes.map((c) => stripPod(pod(structuredClone(c))));
    for (let i = 0; i < shapes.length; i++) {
      // The same object as the copy-then-share strip gave, key order included...
      expect(JSON.stringify(got[i])).toBe(JSON.stringify(referenceStrip(pod(structuredClone(shapes[i])))));
      // ...shared with an equal pod's, and with no other shape's.
      expect(stripPod(pod(structuredClone(shapes[i]))).spec.containers).toBe(got[i]!.spec.containers!);
      for (let j = 0; j < i; j++) expect(got[j]!.spec.containers).not.toBe(got[i]!.spec.containers!);
    }
    // The spec: node, hostNetwork absent / false / true, containers absent: all apart.
    const specs = [
      stripPod(pod(undefined)),
      stripPod(pod(undefined, { hostNetwork: false })),
      stripPod(pod(undefined, { hostNetwork: true })),
      stripPod(pod([{ name: "c" }])),
      stripPod(pod([{ name: "c" }], { nodeName: "n2" })),
    ];
    for (let i = 0; i < specs.length; i++) {
      expect(Object.isFrozen(specs[i]!.spec)).toBe(true);
      for (let j = 0; j < i; j++) expect(specs[j]!.spec).not.toBe(specs[i]!.spec);
    }
    expect(stripPod(pod(undefined, { hostNetwork: true })).spec).toBe(specs[2]!.spec);
  });

  test("a pod whose containers and spec are shared already allocates no copy of them", () => {
    // Copies made only to be dropped for the shared ones lie between the kept pods in the JS
    // heap's blocks, which then stay half used after the collection (decision 0028). Counted
    // before any collection: the cells allocated, garbage included.
    const raw = () =>
      Array.from(
        { length: 500 },
        (_, i) =>
          ({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: `p-${i}`, namespace: "ns", labels: { app: "a" } },
            spec: {
              nodeName: "n1",
              containers: [
                { name: "c", ports: [{ name: "http", containerPort: 80, protocol: "TCP" }] },
                { name: "d", ports: [{ containerPort: 90 }] },
              ],
            },
          }) as unknown as Resource,
      );
    stripPod(raw()[0]!);
    const pods = raw();
    const cells = () => {
      const t = heapStats().objectTypeCounts as Record<string, number>;
      return (t.Object ?? 0) + (t.Array ?? 0);
    };
    Bun.gc(true);
    const before = cells();
    const kept = pods.map(stripPod);
    const perPod = (cells() - before) / pods.length;
    // Kept per pod: the pod and its metadata (no status here); copying containers and spec
    // first would add ~8 (two containers, their ports arrays and ports, the array, the spec).
    expect(perPod).toBeLessThan(3.5);
    expect(kept[499]!.spec).toBe(kept[0]!.spec);
  });
});
