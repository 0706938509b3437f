// parseK8sObject: the API server's validation and defaulting for Pod, Namespace and
// NetworkPolicy (NETWORKPOLICY.md), one test per rule, errors checked by field path and reason.
import { describe, expect, test } from "bun:test";
import { InvalidObjectError } from "../../src/model/invalid-object-error.ts";
import type { NetworkPolicyResource, PodResource } from "../../src/model/k8s-resources.ts";
import { parseK8sObject } from "../../src/model/parse-k8s-object.ts";

function errorsOf(raw: unknown): string[] {
  try {
    parseK8sObject(raw);
  } catch (e) {
    if (e instanceof InvalidObjectError) return e.errors.map((x) => `${x.field}: ${x.reason}`);
    throw e;
  }
  throw new Error("expected the object to be invalid");
}

const policy = (spec: unknown, metadata: unknown = { name: "p" }) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata,
  spec,
});
const parsePolicy = (spec: unknown) => parseK8sObject(policy(spec)) as NetworkPolicyResource;
const ingressPorts = (...ports: unknown[]) => policy({ podSelector: {}, ingress: [{ ports }] });

describe("kinds and apiVersions", () => {
  test("unsupported kind, wrong apiVersion, not an object", () => {
    expect(errorsOf({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" } })[0]).toStartWith(
      'kind: unsupported kind "Deployment"',
    );
    expect(errorsOf({ apiVersion: "v1", kind: "constructor", metadata: { name: "x" } })[0]).toStartWith(
      "kind: unsupported kind",
    );
    expect(errorsOf({ ...policy({}), apiVersion: "v1" })).toEqual([
      'apiVersion: "v1" is not served for NetworkPolicy: use networking.k8s.io/v1',
    ]);
    expect(errorsOf([1])).toEqual([": must be an object, not a list"]);
    expect(errorsOf({ apiVersion: "v1", metadata: { name: "x" } })).toEqual(["kind: Required value"]);
  });

  test("the error message names the object and every problem", () => {
    try {
      parseK8sObject(policy({ policyTypes: ["In"] }, { name: "Bad", namespace: "prod" }));
      throw new Error("no error");
    } catch (e) {
      expect((e as Error).message).toBe(
        "NetworkPolicy prod/Bad: metadata.name: invalid value \"Bad\": must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', starting and ending with a letter or digit; spec.policyTypes[0]: unsupported value \"In\": must be Ingress or Egress",
      );
    }
  });
});

describe("metadata", () => {
  test("namespaced kinds default to namespace default; -n overrides the default", () => {
    expect(parsePolicy({}).metadata.namespace).toBe("default");
    expect(parseK8sObject(policy({}), { defaultNamespace: "prod" }).metadata.namespace).toBe("prod");
    expect(
      parseK8sObject(policy({}, { name: "p", namespace: "dev" }), { defaultNamespace: "prod" }).metadata
        .namespace,
    ).toBe("dev");
  });

  test("names: DNS-1123 subdomain for Pod/NetworkPolicy, label for Namespace and namespaces", () => {
    expect(parsePolicy({}).metadata.name).toBe("p");
    expect(parseK8sObject(policy({}, { name: "a.b-c" })).metadata.name).toBe("a.b-c");
    expect(errorsOf(policy({}, { name: "-x" }))[0]).toStartWith('metadata.name: invalid value "-x"');
    expect(errorsOf(policy({}, { name: "x".repeat(254) }))[0]).toEndWith(
      "must be no more than 253 characters",
    );
    expect(errorsOf({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a.b" } })[0]).toStartWith(
      'metadata.name: invalid value "a.b": must be a DNS-1123 label',
    );
    expect(errorsOf(policy({}, { name: "p", namespace: "Prod" }))[0]).toStartWith(
      'metadata.namespace: invalid value "Prod"',
    );
    expect(errorsOf(policy({}, {}))).toEqual(["metadata.name: Required value"]);
    expect(errorsOf(policy({}, { generateName: "p-" }))[0]).toStartWith(
      "metadata.name: Required value (generateName",
    );
  });

  test("a Namespace is cluster-scoped: no namespace allowed", () => {
    expect(
      errorsOf({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a", namespace: "b" } }),
    ).toEqual(["metadata.namespace: not allowed on this kind (it is cluster-scoped)"]);
  });

  test("label keys and values, annotation keys", () => {
    const bad = errorsOf(
      policy(
        {},
        {
          name: "p",
          labels: { "Example.com/app": "x", "a/b/c": "x", ok: "-bad", n: 1, long: "v".repeat(64) },
          annotations: { "x/": "anything goes in a value" },
        },
      ),
    );
    expect(bad).toEqual([
      "metadata.labels[n]: must be a string, not number (quote it in YAML)",
      "metadata.labels: invalid value \"Example.com/app\": prefix \"Example.com\" must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', starting and ending with a letter or digit",
      "metadata.labels: invalid value \"a/b/c\": a label key may contain at most one '/' (prefix/name)",
      "metadata.labels[ok]: invalid value \"-bad\": must be empty or consist of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
      `metadata.labels[long]: invalid value "${"v".repeat(64)}": must be no more than 63 characters`,
      'metadata.annotations: invalid value "x/": the name part must not be empty',
    ]);
    const ok = parseK8sObject(
      policy({}, { name: "p", labels: { "app.kubernetes.io/name": "web", empty: "", "A_b.c": "X_y.z" } }),
    );
    expect(ok.metadata.labels).toEqual({ "app.kubernetes.io/name": "web", empty: "", "A_b.c": "X_y.z" });
  });

  test("server-set fields from `kubectl get -o yaml` are accepted and dropped; unknown ones are errors", () => {
    const p = parsePolicy({});
    const q = parseK8sObject(
      policy({}, { name: "p", uid: "u", creationTimestamp: "t", managedFields: [], generation: 3 }),
    );
    expect(q.metadata).toEqual(p.metadata);
    expect(errorsOf(policy({}, { name: "p", lables: {} }))[0]).toStartWith("metadata.lables: unknown field");
  });

  test("resourceVersion is kept (apply uses it as a precondition) and must be a number", () => {
    expect(parseK8sObject(policy({}, { name: "p", resourceVersion: "12" })).metadata.resourceVersion).toBe(
      "12",
    );
    expect(errorsOf(policy({}, { name: "p", resourceVersion: "x" }))).toEqual([
      'metadata.resourceVersion: invalid value "x": must be a revision number',
    ]);
  });
});

describe("Namespace", () => {
  test("gets the immutable label kubernetes.io/metadata.name=<name>, overwriting another value", () => {
    const ns = parseK8sObject({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "prod", labels: { team: "a", "kubernetes.io/metadata.name": "other" } },
    });
    expect(ns).toEqual({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "prod", labels: { team: "a", "kubernetes.io/metadata.name": "prod" } },
      spec: {},
    });
  });

  test("spec.finalizers is accepted, other spec fields are not", () => {
    expect(
      parseK8sObject({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "a" },
        spec: { finalizers: ["kubernetes"] },
      }).spec,
    ).toEqual({});
    expect(
      errorsOf({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a" }, spec: { x: 1 } })[0],
    ).toStartWith("spec.x: unknown field");
  });
});

describe("Pod", () => {
  const pod = (spec: unknown, status?: unknown) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "prod", labels: { app: "web" } },
    spec,
    ...(status ? { status } : {}),
  });

  test("keeps fields tartan does not read, defaults port protocols to TCP", () => {
    const p = parseK8sObject(
      pod({
        nodeName: "node-1",
        restartPolicy: "Always",
        containers: [
          {
            name: "c",
            image: "nginx",
            ports: [
              { name: "http", containerPort: 80 },
              { containerPort: 53, protocol: "UDP" },
            ],
          },
        ],
      }),
    ) as PodResource;
    expect(p.spec).toEqual({
      nodeName: "node-1",
      restartPolicy: "Always",
      containers: [
        {
          name: "c",
          image: "nginx",
          ports: [
            { name: "http", containerPort: 80, protocol: "TCP" },
            { containerPort: 53, protocol: "UDP" },
          ],
        },
      ],
    } as never);
  });

  test("container ports: number range, IANA names, unique names, protocols", () => {
    expect(
      errorsOf(
        pod({
          containers: [
            {
              name: "a",
              ports: [
                { name: "http", containerPort: 0 },
                { name: "HTTP", containerPort: 81 },
              ],
            },
            { name: "b", ports: [{ name: "http", containerPort: 82, protocol: "ICMP" }, {}] },
          ],
        }),
      ),
    ).toEqual([
      "spec.containers[0].ports[0].containerPort: invalid value 0: must be between 1 and 65535, inclusive",
      "spec.containers[0].ports[1].name: invalid value \"HTTP\": must contain only lower case letters (a-z), digits (0-9) and '-'",
      'spec.containers[1].ports[0].protocol: unsupported value "ICMP": must be one of TCP, UDP, SCTP',
      'spec.containers[1].ports[0].name: duplicate port name "http" in this pod',
      "spec.containers[1].ports[1].containerPort: Required value",
    ]);
  });

  test("status: phase and podIPs are validated", () => {
    expect(
      (
        parseK8sObject(
          pod({}, { phase: "Running", podIPs: [{ ip: "10.0.0.1" }, { ip: "fd00::1" }] }),
        ) as PodResource
      ).status,
    ).toEqual({
      phase: "Running",
      podIPs: [{ ip: "10.0.0.1" }, { ip: "fd00::1" }],
    });
    expect(errorsOf(pod({}, { phase: "Up", podIPs: [{ ip: "10.0.0.300" }] }))).toEqual([
      'status.phase: unsupported value "Up": must be one of Pending, Running, Succeeded, Failed, Unknown',
      'status.podIPs[0].ip: invalid value "10.0.0.300": must be an IP address',
    ]);
  });

  test("nodeName syntax, hostNetwork type", () => {
    expect(errorsOf(pod({ nodeName: "Node_1", hostNetwork: "yes" }))).toEqual([
      "spec.nodeName: invalid value \"Node_1\": must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', starting and ending with a letter or digit",
      "spec.hostNetwork: must be true or false, not string",
    ]);
  });
});

describe("NetworkPolicy defaulting", () => {
  test("policyTypes: [Ingress] when empty; Egress added only when egress has rules", () => {
    expect(parsePolicy({ podSelector: {} }).spec.policyTypes).toEqual(["Ingress"]);
    expect(parsePolicy({ podSelector: {}, egress: [] }).spec.policyTypes).toEqual(["Ingress"]);
    expect(parsePolicy({ podSelector: {}, egress: [{}] }).spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(parsePolicy({ podSelector: {}, policyTypes: [], egress: [{}] }).spec.policyTypes).toEqual([
      "Ingress",
      "Egress",
    ]);
    expect(parsePolicy({ podSelector: {}, policyTypes: ["Egress"], ingress: [{}] }).spec.policyTypes).toEqual(
      ["Egress"],
    );
  });

  test("a missing podSelector is the empty selector; protocol defaults to TCP", () => {
    const p = parsePolicy({ ingress: [{ ports: [{ port: 80 }, { protocol: "UDP" }] }] });
    expect(p.spec).toEqual({
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ protocol: "TCP", port: 80 }, { protocol: "UDP" }] }],
    });
  });

  test("rules keep their shape: {} stays allow-all, AND of selectors in one peer is kept", () => {
    const p = parsePolicy({
      podSelector: { matchLabels: { app: "db" } },
      ingress: [
        {},
        {
          from: [{ namespaceSelector: { matchLabels: { team: "a" } }, podSelector: {} }, { podSelector: {} }],
        },
      ],
      egress: [{ to: [{ ipBlock: { cidr: "10.1.2.3/8", except: ["10.2.0.0/16"] } }] }],
    });
    expect(p.spec.ingress).toEqual([
      {},
      { from: [{ namespaceSelector: { matchLabels: { team: "a" } }, podSelector: {} }, { podSelector: {} }] },
    ]);
    // Host bits in cidr are legal and kept as written (the compiler masks).
    expect(p.spec.egress).toEqual([{ to: [{ ipBlock: { cidr: "10.1.2.3/8", except: ["10.2.0.0/16"] } }] }]);
  });
});

describe("NetworkPolicy validation", () => {
  test("policyTypes: only Ingress/Egress, at most two", () => {
    expect(errorsOf(policy({ policyTypes: ["Ingress", "Egress", "Ingress"] }))).toEqual([
      "spec.policyTypes: must have at most 2 items, has 3",
    ]);
    expect(errorsOf(policy({ policyTypes: ["ingress"] }))).toEqual([
      'spec.policyTypes[0]: unsupported value "ingress": must be Ingress or Egress',
    ]);
  });

  test("unknown fields anywhere in the spec are errors (a typo must not change isolation)", () => {
    expect(errorsOf(policy({ podselector: {}, ingres: [] })).map((e) => e.split(" (")[0])).toEqual([
      "spec.podselector: unknown field",
      "spec.ingres: unknown field",
    ]);
    expect(errorsOf(policy({ ingress: [{ form: [] }] }))[0]).toStartWith(
      "spec.ingress[0].form: unknown field",
    );
    expect(errorsOf(policy({ egress: [{ to: [{ podSelector: { matchLabel: {} } }] }] }))[0]).toStartWith(
      "spec.egress[0].to[0].podSelector.matchLabel: unknown field",
    );
  });

  test("a peer must set at least one field", () => {
    expect(errorsOf(policy({ ingress: [{ from: [{}] }] }))).toEqual([
      "spec.ingress[0].from[0]: must specify a peer (podSelector, namespaceSelector or ipBlock)",
    ]);
    // `podSelector:` with nothing after it is null: absent, as in the API server.
    expect(errorsOf(policy({ egress: [{ to: [{ podSelector: null }] }] }))).toEqual([
      "spec.egress[0].to[0]: must specify a peer (podSelector, namespaceSelector or ipBlock)",
    ]);
  });

  test("ipBlock may not be combined with a selector", () => {
    for (const sel of ["podSelector", "namespaceSelector"]) {
      expect(
        errorsOf(policy({ ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" }, [sel]: {} }] }] })),
      ).toEqual([
        "spec.ingress[0].from[0]: may not specify both ipBlock and another peer (podSelector or namespaceSelector)",
      ]);
    }
  });

  test("ipBlock: cidr required and valid (v4 and v6), except strictly inside cidr", () => {
    const e = (ipBlock: unknown) => errorsOf(policy({ egress: [{ to: [{ ipBlock }] }] }));
    expect(e({})).toEqual(["spec.egress[0].to[0].ipBlock.cidr: Required value"]);
    expect(e({ cidr: "10.0.0.0" })).toEqual([
      'spec.egress[0].to[0].ipBlock.cidr: invalid value "10.0.0.0": must be a CIDR (e.g. 10.0.0.0/16 or fd00::/64)',
    ]);
    expect(e({ cidr: "10.0.0.0/33" })[0]).toStartWith("spec.egress[0].to[0].ipBlock.cidr: invalid value");
    expect(
      e({ cidr: "10.0.0.0/16", except: ["10.0.0.0/16", "10.1.0.0/24", "10.0.0.0/8", "fd00::/120", "x"] }),
    ).toEqual([
      'spec.egress[0].to[0].ipBlock.except[0]: "10.0.0.0/16" must be a strict subset of cidr (10.0.0.0/16)',
      'spec.egress[0].to[0].ipBlock.except[1]: "10.1.0.0/24" must be a strict subset of cidr (10.0.0.0/16)',
      'spec.egress[0].to[0].ipBlock.except[2]: "10.0.0.0/8" must be a strict subset of cidr (10.0.0.0/16)',
      'spec.egress[0].to[0].ipBlock.except[3]: "fd00::/120" must be a strict subset of cidr (10.0.0.0/16)',
      'spec.egress[0].to[0].ipBlock.except[4]: invalid value "x": must be a CIDR (e.g. 10.0.0.0/16 or fd00::/64)',
    ]);
    const ok = parsePolicy({
      egress: [{ to: [{ ipBlock: { cidr: "fd00::1/64", except: ["fd00::/96", "fd00::5/128"] } }] }],
    });
    expect(ok.spec.egress?.[0]?.to?.[0]?.ipBlock).toEqual({
      cidr: "fd00::1/64",
      except: ["fd00::/96", "fd00::5/128"],
    });
    // An except with host bits is taken by its network, like the API server does.
    expect(
      parsePolicy({ egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/16", except: ["10.0.1.7/24"] } }] }] }),
    ).toBeDefined();
  });

  test("ports: number 1-65535, protocol TCP/UDP/SCTP", () => {
    expect(
      errorsOf(ingressPorts({ port: 0 }, { port: 65536 }, { port: 443, protocol: "ICMP" }, { port: true })),
    ).toEqual([
      "spec.ingress[0].ports[0].port: invalid value 0: must be between 1 and 65535, inclusive",
      "spec.ingress[0].ports[1].port: invalid value 65536: must be between 1 and 65535, inclusive",
      'spec.ingress[0].ports[2].protocol: unsupported value "ICMP": must be one of TCP, UDP, SCTP',
      "spec.ingress[0].ports[3].port: must be a port number or a port name, not boolean",
    ]);
    expect(
      parsePolicy({ ingress: [{ ports: [{ port: 1 }, { port: 65535, protocol: "SCTP" }] }] }).spec.ingress,
    ).toEqual([
      {
        ports: [
          { protocol: "TCP", port: 1 },
          { protocol: "SCTP", port: 65535 },
        ],
      },
    ]);
  });

  test("named ports follow IANA_SVC_NAME", () => {
    const reasons = (port: string) => errorsOf(ingressPorts({ port }))[0]?.split(": ").slice(2).join(": ");
    expect(reasons("a".repeat(16))).toBe("must be 1 to 15 characters");
    expect(reasons("Http")).toBe("must contain only lower case letters (a-z), digits (0-9) and '-'");
    expect(reasons("h_t")).toBe("must contain only lower case letters (a-z), digits (0-9) and '-'");
    expect(reasons("8080")).toBe("must contain at least one letter (a-z)");
    expect(reasons("a--b")).toBe("must not contain consecutive hyphens");
    expect(reasons("-ab")).toBe("must not begin or end with a hyphen");
    expect(reasons("ab-")).toBe("must not begin or end with a hyphen");
    expect(reasons("")).toBe("must be 1 to 15 characters");
    for (const ok of ["http", "a", "h2c", "web-8080", "a".repeat(15)]) {
      expect(parsePolicy({ ingress: [{ ports: [{ port: ok }] }] }).spec.ingress?.[0]?.ports?.[0]?.port).toBe(
        ok,
      );
    }
  });

  // The upstream "Netpol API" e2e cases for endPort.
  test("endPort without port is rejected", () => {
    expect(errorsOf(ingressPorts({ endPort: 90 }))).toEqual([
      "spec.ingress[0].ports[0].endPort: may not be specified when port is not specified",
    ]);
  });
  test("endPort with a named port is rejected", () => {
    expect(errorsOf(ingressPorts({ port: "http", endPort: 90 }))).toEqual([
      "spec.ingress[0].ports[0].endPort: may not be specified when port is a named port (non-numeric)",
    ]);
  });
  test("endPort < port is rejected, naming the port", () => {
    expect(errorsOf(ingressPorts({ port: 22 }, { port: 80, endPort: 79 }))).toEqual([
      "spec.ingress[0].ports[1].endPort: must be >= port (80)",
    ]);
  });
  test("endPort == port and endPort > port are accepted", () => {
    expect(
      parsePolicy({
        ingress: [
          {
            ports: [
              { port: 80, endPort: 80 },
              { port: 80, endPort: 90, protocol: "UDP" },
            ],
          },
        ],
      }).spec.ingress,
    ).toEqual([
      {
        ports: [
          { protocol: "TCP", port: 80, endPort: 80 },
          { protocol: "UDP", port: 80, endPort: 90 },
        ],
      },
    ]);
  });
  test("endPort must itself be a valid port number", () => {
    expect(errorsOf(ingressPorts({ port: 80, endPort: 70000 }))).toEqual([
      "spec.ingress[0].ports[0].endPort: invalid value 70000: must be between 1 and 65535, inclusive",
    ]);
    expect(errorsOf(ingressPorts({ port: 80, endPort: "90" }))).toEqual([
      "spec.ingress[0].ports[0].endPort: must be a port number, not string",
    ]);
  });
});

describe("label selectors", () => {
  const sel = (podSelector: unknown) => errorsOf(policy({ podSelector }));

  test("In/NotIn need values, Exists/DoesNotExist must have none", () => {
    expect(
      sel({
        matchExpressions: [
          { key: "a", operator: "In" },
          { key: "a", operator: "NotIn", values: [] },
          { key: "a", operator: "Exists", values: ["x"] },
          { key: "a", operator: "DoesNotExist", values: ["x"] },
        ],
      }),
    ).toEqual([
      "spec.podSelector.matchExpressions[0].values: must be specified when operator is In",
      "spec.podSelector.matchExpressions[1].values: must be specified when operator is NotIn",
      "spec.podSelector.matchExpressions[2].values: may not be specified when operator is Exists",
      "spec.podSelector.matchExpressions[3].values: may not be specified when operator is DoesNotExist",
    ]);
  });

  test("operators, keys and values are checked", () => {
    expect(
      sel({
        matchLabels: { "bad key": "v", ok: "bad value" },
        matchExpressions: [
          { key: "a", operator: "Equals", values: ["x"] },
          { operator: "Exists" },
          { key: "a", operator: "In", values: ["-x"] },
        ],
      }),
    ).toEqual([
      "spec.podSelector.matchLabels: invalid value \"bad key\": the name part must consist of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
      "spec.podSelector.matchLabels[ok]: invalid value \"bad value\": must be empty or consist of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
      'spec.podSelector.matchExpressions[0].operator: unsupported value "Equals": must be one of In, NotIn, Exists, DoesNotExist',
      "spec.podSelector.matchExpressions[1].key: Required value",
      "spec.podSelector.matchExpressions[2].values[0]: invalid value \"-x\": must be empty or consist of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
    ]);
  });

  test("valid selectors are kept as written", () => {
    const s = {
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["a", "b"] },
        { key: "x", operator: "DoesNotExist" },
      ],
    };
    expect(parsePolicy({ podSelector: s }).spec.podSelector).toEqual(s as never);
  });
});
