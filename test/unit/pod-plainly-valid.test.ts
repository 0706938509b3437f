import { describe, expect, test } from "bun:test";
import { stripPod } from "../../src/agent/policy-manager.ts";
import { parseK8sObject } from "../../src/model/parse-k8s-object.ts";
import { podPlainlyValid } from "../../src/model/pod-plainly-valid.ts";
import { storedObjectErrors } from "../../src/model/validate-stored-object.ts";

const fullyValid = (o: unknown): boolean => {
  try {
    parseK8sObject(o);
    return true;
  } catch {
    return false;
  }
};

const kubeletPod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web-1",
    namespace: "shop",
    resourceVersion: "42",
    uid: "u-1",
    labels: { app: "web", "app.kubernetes.io/name": "web" },
    annotations: { "tartan.dev/container-id": "abc" },
  },
  spec: {
    nodeName: "node-1",
    hostNetwork: false,
    containers: [
      { name: "c", ports: [{ name: "http", containerPort: 80, protocol: "TCP" }, { containerPort: 53 }] },
      { name: "side", ports: [{ name: "dns", containerPort: 53, protocol: "UDP" }] },
    ],
  },
  status: { phase: "Running", podIPs: [{ ip: "10.0.0.1" }, { ip: "fd00::1" }] },
};

/** Every field path the check reads, and values that are right or wrong there in some way. */
const PATHS: (string | number)[][] = [
  ["apiVersion"],
  ["kind"],
  ["metadata"],
  ["metadata", "name"],
  ["metadata", "namespace"],
  ["metadata", "resourceVersion"],
  ["metadata", "uid"],
  ["metadata", "generateName"],
  ["metadata", "labels"],
  ["metadata", "labels", "app"],
  ["metadata", "labels", "bad key!"],
  ["metadata", "labels", "a/b/c"],
  ["metadata", "annotations"],
  ["metadata", "annotations", "tartan.dev/x"],
  ["metadata", "annotations", "/x"],
  ["metadata", "managedFields"],
  ["spec"],
  ["spec", "nodeName"],
  ["spec", "hostNetwork"],
  ["spec", "containers"],
  ["spec", "containers", 0],
  ["spec", "containers", 0, "name"],
  ["spec", "containers", 0, "ports"],
  ["spec", "containers", 0, "ports", 0],
  ["spec", "containers", 0, "ports", 0, "name"],
  ["spec", "containers", 0, "ports", 0, "containerPort"],
  ["spec", "containers", 0, "ports", 0, "protocol"],
  ["spec", "containers", 1, "ports", 0, "name"],
  ["status"],
  ["status", "phase"],
  ["status", "podIPs"],
  ["status", "podIPs", 0],
  ["status", "podIPs", 0, "ip"],
  ["status", "podIPs", 0, "extra"],
  ["status", "podIPs", 1, "ip"],
  ["extra"],
];
const VALUES: unknown[] = [
  undefined,
  null,
  "",
  "v1",
  "Pod",
  "Running",
  "Bogus",
  "TCP",
  "tcp",
  "SCTP",
  "http",
  "dns",
  "a--b",
  "-a",
  "web",
  "Bad_Name",
  "x".repeat(64),
  "x".repeat(300),
  "a.b",
  "node-1",
  "10.0.0.1",
  "10.0.0.1 ",
  "010.0.0.1",
  "fd00::1",
  "fd00::g",
  "42",
  "4x",
  0,
  1,
  80,
  65536,
  1.5,
  Number.NaN,
  true,
  false,
  [],
  [{}],
  [{ ip: "10.1.1.1" }],
  {},
  { app: "x" },
  { app: 1 },
];

function mutate(base: unknown, path: (string | number)[], value: unknown): unknown {
  const o = structuredClone(base) as Record<string | number, unknown>;
  let cur: Record<string | number, unknown> = o;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== "object" || next === null) return o; // the path is not there: unchanged
    cur = next as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return o;
}

describe("podPlainlyValid", () => {
  test("plain pods are plainly valid (the fast path is taken)", () => {
    const minimal = { apiVersion: "v1", kind: "Pod", metadata: { name: "a" }, spec: {} };
    for (const p of [kubeletPod, stripPod(structuredClone(kubeletPod) as never), minimal]) {
      expect(fullyValid(p)).toBe(true);
      expect(podPlainlyValid(p)).toBe(true);
    }
  });

  test("never plainly valid where the full validation refuses; agrees on most mutations", () => {
    let agreed = 0;
    let n = 0;
    const wronglyPlain: unknown[] = [];
    for (const base of [kubeletPod, stripPod(structuredClone(kubeletPod) as never)]) {
      for (const path of PATHS) {
        for (const value of VALUES) {
          const o = mutate(base, path, value);
          const fast = podPlainlyValid(o);
          const full = fullyValid(o);
          n++;
          if (fast === full) agreed++;
          // The one direction that must hold: a fast "valid" is a full "valid".
          if (fast && !full) wronglyPlain.push({ path, value });
        }
      }
    }
    expect(wronglyPlain).toEqual([]);
    expect(n).toBeGreaterThan(2000);
    // The fast check is conservative by design (unknown metadata keys go the full way), but it
    // must not be so conservative that the common case misses it.
    expect(agreed / n).toBeGreaterThan(0.9);
  });

  test("a pod the fast check refuses still gets its problems named by the full validation", () => {
    const bad = mutate(kubeletPod, ["status", "podIPs", 0, "ip"], "10.0.0.1 ");
    expect(podPlainlyValid(bad)).toBe(false);
    expect(storedObjectErrors(bad)).toEqual([
      { field: "status.podIPs[0].ip", reason: 'invalid value "10.0.0.1 ": must be an IP address' },
    ]);
    const dup = mutate(kubeletPod, ["spec", "containers", 1, "ports", 0, "name"], "http");
    expect(podPlainlyValid(dup)).toBe(false);
    expect(storedObjectErrors(dup).map((e) => e.field)).toEqual(["spec.containers[1].ports[0].name"]);
    expect(storedObjectErrors(kubeletPod)).toEqual([]);
  });
});
