// The lab's Pod objects: the --ports option and the manifest `lab pod add` applies before the
// CNI ADD (which must pass the API validation the CLI applies). The lab itself: test/e2e.
import { describe, expect, test } from "bun:test";
import { labPodManifest } from "../../src/lab/lab-pod-manifest.ts";
import { parseLabPodPorts } from "../../src/lab/lab-pod-ports.ts";
import { parseK8sObject } from "../../src/model/parse-k8s-object.ts";

describe("parseLabPodPorts", () => {
  test("[name:]port[/proto], protocol TCP by default, any case", () => {
    expect(parseLabPodPorts("http:8080/TCP,dns:53/udp,9000,s:7/sctp")).toEqual([
      { name: "http", containerPort: 8080, protocol: "TCP" },
      { name: "dns", containerPort: 53, protocol: "UDP" },
      { containerPort: 9000, protocol: "TCP" },
      { name: "s", containerPort: 7, protocol: "SCTP" },
    ]);
    expect(parseLabPodPorts(undefined)).toEqual([]);
  });

  test("anything else is a usage error", () => {
    for (const bad of ["http", "http:x", "a:80/icmp", "a:b:80"]) {
      expect(() => parseLabPodPorts(bad)).toThrow(/is not \[name:\]port/);
    }
  });
});

describe("labPodManifest", () => {
  test("labels, nodeName and named container ports; valid for the API", () => {
    const m = labPodManifest({
      namespace: "shop",
      name: "web",
      node: "node-2",
      labels: { app: "web" },
      ports: parseLabPodPorts("http:8080"),
    });
    expect(m).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace: "shop", labels: { app: "web" } },
      spec: {
        nodeName: "node-2",
        containers: [{ name: "responder", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }],
      },
    });
    expect(parseK8sObject(m)).toEqual(m);
  });

  test("an invalid port name is caught by the API validation", () => {
    const m = labPodManifest({
      namespace: "d",
      name: "p",
      node: "node-1",
      labels: {},
      ports: parseLabPodPorts("HTTP:80"),
    });
    expect(() => parseK8sObject(m)).toThrow("spec.containers[0].ports[0].name");
  });
});
