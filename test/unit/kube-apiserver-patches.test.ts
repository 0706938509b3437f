// The stand-in API server's patch and selector code without a server: RFC 7386 merge patch,
// RFC 6902 JSON patch, the strategic merge subset, label and field selector strings, tables.
import { describe, expect, test } from "bun:test";
import { ApiError } from "../../src/lab/kube-apiserver/api-error.ts";
import { BUILT_IN_RESOURCES } from "../../src/lab/kube-apiserver/api-resource.ts";
import { jsonPatch } from "../../src/lab/kube-apiserver/json-patch.ts";
import { mergePatch } from "../../src/lab/kube-apiserver/merge-patch.ts";
import { parseFieldSelector, parseLabelSelector } from "../../src/lab/kube-apiserver/selector-query.ts";
import { strategicMergePatch } from "../../src/lab/kube-apiserver/strategic-merge-patch.ts";
import { age, tableOf, wantsTable } from "../../src/lab/kube-apiserver/table-view.ts";

describe("merge patch (RFC 7386)", () => {
  test("maps merge, null removes, lists are replaced", () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({
      a: { c: 2, d: 3 },
      l: [3],
    });
  });
});

describe("JSON patch (RFC 6902)", () => {
  const doc = { spec: { list: ["a", "b"], n: 1 } };
  test("add, remove, replace, move, copy, test", () => {
    expect(
      jsonPatch(doc, [
        { op: "add", path: "/spec/list/1", value: "x" },
        { op: "remove", path: "/spec/list/0" },
        { op: "replace", path: "/spec/n", value: 2 },
        { op: "copy", from: "/spec/n", path: "/spec/m" },
        { op: "move", from: "/spec/m", path: "/spec/k" },
        { op: "test", path: "/spec/k", value: 2 },
        { op: "add", path: "/spec/list/-", value: "z" },
      ]),
    ).toEqual({ spec: { list: ["x", "b", "z"], n: 2, k: 2 } });
    expect(doc.spec.list).toEqual(["a", "b"]); // the input is not changed
  });
  test("a failed test is 422 Invalid; a missing path too", () => {
    const err = (ops: unknown) => {
      try {
        jsonPatch(doc, ops);
      } catch (e) {
        return (e as ApiError).code;
      }
      return 0;
    };
    expect(err([{ op: "test", path: "/spec/n", value: 5 }])).toBe(422);
    expect(err([{ op: "replace", path: "/spec/nope", value: 5 }])).toBe(422);
    expect(err({ op: "add" })).toBe(400);
  });
});

describe("strategic merge patch (subset)", () => {
  const pod = {
    metadata: { labels: { a: "1" } as Record<string, string>, finalizers: ["x"] },
    spec: {
      containers: [
        { name: "main", image: "i1", env: [{ name: "A", value: "1" }] },
        { name: "side", image: "s1" },
      ],
      tolerations: [{ key: "t1" }],
    },
  };
  test("containers merge by name, env by name, other lists are replaced, null removes", () => {
    const out = strategicMergePatch(pod, {
      $setElementOrder$containers: [{ name: "main" }, { name: "side" }],
      metadata: { labels: { a: null, b: "2" }, finalizers: ["y"] },
      spec: {
        containers: [{ name: "main", image: "i2", env: [{ name: "B", value: "2" }] }],
        tolerations: [{ key: "t2" }],
      },
    }) as typeof pod;
    expect(out.metadata).toEqual({ labels: { b: "2" }, finalizers: ["x", "y"] });
    expect(out.spec.containers).toEqual([
      {
        name: "main",
        image: "i2",
        env: [
          { name: "A", value: "1" },
          { name: "B", value: "2" },
        ],
      },
      { name: "side", image: "s1" },
    ]);
    expect(out.spec.tolerations).toEqual([{ key: "t2" }]);
  });
  test("$patch: delete removes a list item, $patch: replace replaces a list or map", () => {
    const del = strategicMergePatch(pod, {
      spec: { containers: [{ name: "side", $patch: "delete" }] },
    }) as typeof pod;
    expect(del.spec.containers.map((c) => c.name)).toEqual(["main"]);
    const rep = strategicMergePatch(pod, {
      spec: { containers: [{ name: "only", image: "o" }, { $patch: "replace" }] },
    }) as typeof pod;
    expect(rep.spec.containers).toEqual([{ name: "only", image: "o" }]);
    const map = strategicMergePatch(pod, {
      metadata: { labels: { $patch: "replace", z: "9" } },
    }) as typeof pod;
    expect(map.metadata.labels).toEqual({ z: "9" });
  });
  test("node conditions merge by type", () => {
    const out = strategicMergePatch(
      { status: { conditions: [{ type: "Ready", status: "True" }] } },
      { status: { conditions: [{ type: "NetworkUnavailable", status: "False" }] } },
    );
    expect(out).toEqual({
      status: {
        conditions: [
          { type: "Ready", status: "True" },
          { type: "NetworkUnavailable", status: "False" },
        ],
      },
    });
  });
});

describe("selectors", () => {
  test("label selector syntax", () => {
    const m = parseLabelSelector("app=web,tier!=db,env in (a, b),!legacy,team");
    expect(m({ app: "web", env: "a", team: "x" })).toBe(true);
    expect(m({ app: "web", env: "c", team: "x" })).toBe(false);
    expect(m({ app: "web", env: "a", team: "x", legacy: "1" })).toBe(false);
    expect(m({ app: "web", env: "a" })).toBe(false);
    expect(m({ app: "web", tier: "db", env: "a", team: "x" })).toBe(false);
    expect(parseLabelSelector("x notin (1)")(undefined)).toBe(true);
    expect(() => parseLabelSelector("a=(b")).toThrow(ApiError);
  });
  test("field selectors: known fields only, = == != and AND", () => {
    const pod = { metadata: { name: "p", namespace: "n" }, spec: { nodeName: "node-1" } };
    const f = parseFieldSelector("spec.nodeName==node-1,metadata.name!=q", ["spec.nodeName"], "Pod");
    expect(f(pod)).toBe(true);
    expect(parseFieldSelector("metadata.namespace=m", [], "Pod")(pod)).toBe(false);
    expect(() => parseFieldSelector("spec.image=x", ["spec.nodeName"], "Pod")).toThrow(
      "not a known field selector",
    );
  });
});

describe("tables for kubectl get", () => {
  const pods = BUILT_IN_RESOURCES.find((r) => r.resource === "pods")!;
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "x", creationTimestamp: new Date(Date.now() - 90_000).toISOString() },
    spec: { nodeName: "node-1", containers: [{ name: "c" }] },
    status: { phase: "Running", podIP: "10.244.0.2" },
  };
  test("pods: READY STATUS RESTARTS AGE, IP and NODE for -o wide (priority 1)", () => {
    const t = tableOf(pods, [pod], { resourceVersion: "7" }) as {
      columnDefinitions: { name: string; priority: number }[];
      rows: { cells: unknown[]; object: { metadata: { name: string } } }[];
    };
    expect(t.columnDefinitions.map((c) => `${c.name}:${c.priority}`)).toEqual([
      "Name:0",
      "Ready:0",
      "Status:0",
      "Restarts:0",
      "Age:0",
      "IP:1",
      "Node:1",
    ]);
    expect(t.rows[0]!.cells).toEqual(["web", "1/1", "Running", 0, "90s", "10.244.0.2", "node-1"]);
    expect(t.rows[0]!.object.metadata.name).toBe("web");
  });
  test("ages as kubectl prints them; Table only when asked", () => {
    const now = Date.parse("2026-12-05T12:00:00Z");
    const ago = (s: number) => new Date(now - s * 1000).toISOString();
    expect([5, 150, 1500, 5 * 3600, 4 * 86400].map((s) => age(ago(s), now))).toEqual([
      "5s",
      "2m30s",
      "25m",
      "5h",
      "4d",
    ]);
    expect(wantsTable("application/json;as=Table;v=v1;g=meta.k8s.io,application/json")).toBe(true);
    expect(wantsTable("application/json")).toBe(false);
  });
});
