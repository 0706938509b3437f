import { describe, expect, test } from "bun:test";
import { stripPod } from "../../src/agent/policy-manager.ts";
import { podIps, policyPod } from "../../src/calc/policy-pods.ts";
import type { PodResource } from "../../src/model/k8s-resources.ts";
import type { Resource } from "../../src/model/resource.ts";

const pod = (name: string, ips: string[], ns: string | null = "shop"): PodResource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, ...(ns !== null ? { namespace: ns } : {}), labels: { app: "web" } },
  spec: {
    nodeName: "node-1",
    containers: [
      {
        name: "c",
        ports: [
          { name: "http", containerPort: 80, protocol: "TCP" },
          { containerPort: 9000 },
          { name: "dns", containerPort: 53, protocol: "UDP" },
        ],
      },
    ],
  },
  status: { phase: "Running", podIPs: ips.map((ip) => ({ ip })) },
});

describe("policyPod", () => {
  test("IPs per family, canonical, without duplicates; the datastore's text kept when canonical", () => {
    const p = pod("a", ["10.0.0.1", "fd00:0::1", "10.0.0.1", "FD00::1", "nonsense"]);
    const pp = policyPod(p)!;
    expect(pp.ips4).toEqual(["10.0.0.1"]);
    expect(pp.ips6).toEqual(["fd00::1"]);
    expect(podIps(pp, 4)).toBe(pp.ips4);
    expect(podIps(pp, 6)).toBe(pp.ips6);
    expect(pp.ips4[0]).toBe(p.status!.podIPs![0]!.ip);
    const v4only = policyPod(pod("b", ["10.0.0.2"]))!;
    expect(v4only.ips6).toEqual([]);
    expect(Object.isFrozen(v4only.ips6)).toBe(true);
    expect(policyPod(pod("c", []))).toBeUndefined();
  });

  test("the key: the caller's text when it is <namespace>/<name>, built otherwise", () => {
    const held = ["shop", "a"].join("/");
    expect(policyPod(pod("a", ["10.0.0.1"]), held)!.key).toBe(held);
    for (const wrong of ["shop/b", "shopa", "sho/pa", "shop/a/", "a"])
      expect(policyPod(pod("a", ["10.0.0.1"]), wrong)!.key).toBe("shop/a");
    // No namespace: the mirror's key is the bare name, the pod's key says "default".
    expect(policyPod(pod("a", ["10.0.0.1"], null), "a")!.key).toBe("default/a");
    expect(policyPod(pod("a", ["10.0.0.1"]))!.key).toBe("shop/a");
  });

  test("named ports only; shared between pods whose containers the mirror shares", () => {
    const a = policyPod(stripPod(pod("a", ["10.0.0.1"]) as Resource))!;
    const b = policyPod(stripPod(pod("b", ["10.0.0.2"]) as Resource))!;
    expect(a.ports).toEqual([
      { name: "http", protocol: "TCP", port: 80 },
      { name: "dns", protocol: "UDP", port: 53 },
    ]);
    expect(b.ports).toBe(a.ports);
    expect(Object.isFrozen(a.ports)).toBe(true);
    // Containers not shared (not frozen) may change later: their ports are not remembered.
    const loose = pod("c", ["10.0.0.3"]);
    const c = policyPod(loose)!;
    loose.spec.containers![0]!.ports![0]!.name = "web";
    expect(policyPod(loose)!.ports[0]!.name).toBe("web");
    expect(c.ports[0]!.name).toBe("http");
    expect(policyPod({ ...pod("d", ["10.0.0.4"]), spec: { nodeName: "n" } })!.ports).toEqual([]);
  });
});
