// BGPConfiguration and BGPPeer (decision 0017): what `tartan apply` and the agent's ingestion
// accept and refuse, each refusal by field and reason; the Node's spec.bgp; the agent config's bgp.
import { describe, expect, test } from "bun:test";
import { parseAgentConfig } from "../../src/agent/agent-config.ts";
import { durationSeconds } from "../../src/model/bgp-resources.ts";
import { InvalidObjectError } from "../../src/model/invalid-object-error.ts";
import { parseK8sObject } from "../../src/model/parse-k8s-object.ts";
import { parsePeerIP } from "../../src/model/validate-bgp-object.ts";
import { storedObjectErrors } from "../../src/model/validate-stored-object.ts";

const V = "tartan.dev/v1alpha1";
const config = (spec: unknown, name = "default") => ({
  apiVersion: V,
  kind: "BGPConfiguration",
  metadata: { name },
  spec,
});
const peer = (spec: unknown) => ({ apiVersion: V, kind: "BGPPeer", metadata: { name: "p" }, spec });

function errorsOf(raw: unknown): string[] {
  try {
    parseK8sObject(raw);
  } catch (e) {
    if (e instanceof InvalidObjectError) return e.errors.map((x) => `${x.field}: ${x.reason}`);
    throw e;
  }
  throw new Error("expected the object to be invalid");
}

describe("BGPConfiguration", () => {
  test("accepted as written, cluster scoped, only given fields kept", () => {
    const o = parseK8sObject(
      config({ asNumber: 65001, nodeToNodeMeshEnabled: false, nodeMeshMaxRestartTime: "2m" }),
    );
    expect(o.metadata.namespace).toBeUndefined();
    expect(o.spec).toEqual({ asNumber: 65001, nodeToNodeMeshEnabled: false, nodeMeshMaxRestartTime: "2m" });
    expect(parseK8sObject(config(undefined)).spec).toEqual({});
  });

  test("refusals name the field and the reason", () => {
    expect(errorsOf(config({}, "other"))).toEqual([
      'metadata.name: must be "default": BGPConfiguration is a singleton',
    ]);
    const e = errorsOf(
      config({
        asNumber: 0,
        nodeToNodeMeshEnabled: "yes",
        listenPort: 70000,
        nodeMeshPassword: 'a"b',
        nodeMeshMaxRestartTime: "5000s",
        extra: 1,
      }),
    );
    expect(e).toContain(
      "spec.extra: unknown field (known: asNumber, nodeToNodeMeshEnabled, listenPort, nodeMeshPassword, nodeMeshMaxRestartTime)",
    );
    expect(e).toContain(
      "spec.asNumber: invalid value 0: must be an AS number, an integer from 1 to 4294967295",
    );
    expect(e).toContain("spec.nodeToNodeMeshEnabled: must be true or false");
    expect(e).toContain("spec.listenPort: invalid value 70000: must be a port, 1 to 65535");
    expect(e.some((x) => x.startsWith("spec.nodeMeshPassword:") && !x.includes('a"b'))).toBe(true);
    expect(e).toContain('spec.nodeMeshMaxRestartTime: invalid value "5000s": must be between 1 s and 4095 s');
    expect(errorsOf(config({ asNumber: 23456 }))[0]).toContain("AS_TRANS");
    expect(errorsOf({ ...config({}), metadata: { name: "default", namespace: "x" } })[0]).toStartWith(
      "metadata.namespace: not allowed",
    );
  });
});

describe("BGPPeer", () => {
  test("an external router, a node selector, or other nodes by selector", () => {
    expect(
      parseK8sObject(peer({ peerIP: "198.18.0.254", asNumber: 65000, password: "s3cret" })).spec,
    ).toEqual({
      peerIP: "198.18.0.254",
      asNumber: 65000,
      password: "s3cret",
    });
    const sel = { matchExpressions: [{ key: "tartan.dev/route-reflector", operator: "Exists" as const }] };
    expect(
      parseK8sObject(peer({ nodeSelector: { matchLabels: { rack: "a" } }, peerSelector: sel })).spec,
    ).toEqual({
      nodeSelector: { matchLabels: { rack: "a" } },
      peerSelector: sel,
    });
  });

  test("exactly one of peerIP and peerSelector; AS with peerIP only; node xor nodeSelector", () => {
    expect(errorsOf(peer({}))).toEqual([
      "spec.peerIP: give exactly one of peerIP (an external router) and peerSelector (other nodes)",
    ]);
    expect(errorsOf(peer({ peerIP: "10.0.0.1" }))).toEqual([
      "spec.asNumber: Required value (the AS of the router at peerIP)",
    ]);
    expect(errorsOf(peer({ peerSelector: {}, asNumber: 1 }))).toEqual([
      "spec.asNumber: not allowed with peerSelector: selected nodes use their own AS",
    ]);
    expect(errorsOf(peer({ peerIP: "10.0.0.1", asNumber: 1, node: "a", nodeSelector: {} }))).toEqual([
      "spec.nodeSelector: give node or nodeSelector, not both",
    ]);
    const e = errorsOf(
      peer({ peerIP: "10.0.0.1:99999", asNumber: 1, keepaliveTime: "x", sourceAddress: "Any", node: "A_" }),
    );
    expect(e).toContain('spec.peerIP: invalid value "10.0.0.1:99999": must be IP, IPv4:PORT or [IPv6]:PORT');
    expect(e).toContain(
      'spec.keepaliveTime: invalid value "x": must be a duration such as "90s", "2m" or "1m30s"',
    );
    expect(e).toContain('spec.sourceAddress: invalid value "Any": must be UseNodeIP or None');
    expect(e.some((x) => x.startsWith("spec.node:"))).toBe(true);
  });

  test("peer addresses and durations", () => {
    expect(parsePeerIP("10.0.0.1")?.port).toBeUndefined();
    expect(parsePeerIP("10.0.0.1:1179")?.port).toBe(1179);
    expect(parsePeerIP("[fd00::1]:179")?.ip.family).toBe(6);
    expect(parsePeerIP("fd00::1")?.ip.family).toBe(6);
    expect(parsePeerIP("[10.0.0.1]:1")).toBeUndefined();
    expect(parsePeerIP(" 10.0.0.1")).toBeUndefined();
    expect(durationSeconds("1m30s")).toBe(90);
    expect(durationSeconds("2h")).toBe(7200);
    expect(durationSeconds("")).toBeUndefined();
    expect(durationSeconds("10")).toBeUndefined();
  });

  test("the agent refuses stored objects written around tartan apply", () => {
    expect(storedObjectErrors(peer({ peerIP: "x", asNumber: 1 }))[0]?.field).toBe("spec.peerIP");
    expect(storedObjectErrors(peer({ peerIP: "10.0.0.1", asNumber: 1 }))).toEqual([]);
  });
});

describe("per node", () => {
  const node = (bgp: unknown) => ({
    apiVersion: V,
    kind: "Node",
    metadata: { name: "n1" },
    spec: { underlayAddress: "10.0.0.1", underlaySubnet: "10.0.0.0/24", bgp },
  });

  test("Node spec.bgp: AS, cluster ID, IPv6 next hop", () => {
    expect(
      storedObjectErrors(
        node({ asNumber: 65001, routeReflectorClusterID: "244.0.0.1", ipv6Address: "fd00::1" }),
      ),
    ).toEqual([]);
    const e = storedObjectErrors(
      node({ asNumber: -1, routeReflectorClusterID: "1.2.3", ipv6Address: "10.0.0.1", x: 1 }),
    ).map((x) => x.field);
    expect(e.sort()).toEqual([
      "spec.bgp.asNumber",
      "spec.bgp.ipv6Address",
      "spec.bgp.routeReflectorClusterID",
      "spec.bgp.x",
    ]);
  });

  test("agent config bgp section: defaults and refusals", () => {
    const base = "nodeName: n1\ndatastore: {type: local, path: /x}\nunderlayInterface: eth0\n";
    const c = parseAgentConfig(`${base}backend: bgp\n`);
    expect(c.backend).toBe("bgp");
    expect(c.bgp).toEqual({ stateDir: "/run/tartan/bird", birdPath: "bird", labels: {} });
    const d = parseAgentConfig(
      `${base}backend: bgp-cross-subnet\nbgp: {asNumber: 65001, routeReflectorClusterID: 244.0.0.1, stateDir: /s, labels: {rack: a}}\n`,
    );
    expect(d.bgp).toMatchObject({
      asNumber: 65001,
      routeReflectorClusterID: "244.0.0.1",
      stateDir: "/s",
      labels: { rack: "a" },
    });
    expect(() => parseAgentConfig(`${base}bgp: {routeReflectorClusterID: 1.2.3}\n`)).toThrow(
      /bgp.routeReflectorClusterID/,
    );
    expect(() => parseAgentConfig(`${base}bgp: {asNumber: 0}\n`)).toThrow(/bgp.asNumber/);
    expect(() => parseAgentConfig(`${base}bgp: {stateDir: rel}\n`)).toThrow(/bgp.stateDir/);
  });
});
