// An explanation of a verdict ("which policy and which rule allowed or dropped A→B") is computed
// from the policy IR alone: these tests look up the deciding rule and its origin without any
// nftables text.
import { describe, expect, test } from "bun:test";
import { compilePolicy } from "../../src/calc/compile-policy.ts";
import { lookupPolicyRules } from "../../src/calc/policy-rule-lookup.ts";
import { namespace, netpol, pod } from "../harness/k8s-objects.ts";

const web = pod("prod/web", ["10.0.0.1", "fd00::1"], {
  labels: { app: "web" },
  ports: [{ name: "http", containerPort: 8080 }],
});
const db = pod("prod/db", ["10.0.0.2"], {
  labels: { app: "db" },
  ports: [{ name: "pg", containerPort: 5432 }],
});
const client = pod("dev/client", ["10.0.1.9"], { node: "n2", labels: { app: "client" } });

const ir = compilePolicy({
  nodeName: "n1",
  pods: [web, db, client],
  namespaces: [namespace("dev", { team: "dev" }), namespace("prod")],
  policies: [
    netpol("prod/allow-web", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [
        { from: [{ ipBlock: { cidr: "192.168.0.0/16" } }], ports: [{ port: 22 }] },
        {
          from: [
            { podSelector: { matchLabels: { app: "db" } } },
            { namespaceSelector: { matchLabels: { team: "dev" } } },
          ],
          ports: [{ port: 443 }, { port: "http" }, { protocol: "UDP", port: 53 }],
        },
      ],
    }),
    netpol("prod/db-egress", {
      podSelector: { matchLabels: { app: "db" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: "http" }] }],
    }),
  ],
});

describe("the deciding rule and its origin, from the IR alone", () => {
  test("an allowed connection names the policy, its rule, peer and port entry", () => {
    const hit = lookupPolicyRules(ir, { src: "10.0.1.9", dst: "10.0.0.1", protocol: "TCP", port: 8080 });
    expect(hit.egress).toBeUndefined(); // the client is not on this node / not isolated here
    expect(hit.ingress!.chain).toBe("ing/prod/web");
    expect(hit.ingress!.rule.verdict).toBe("accept");
    expect(hit.ingress!.rule.origin).toEqual({
      kind: "allow",
      policy: "prod/allow-web",
      direction: "ingress",
      rule: 1,
      peer: 1,
    });
    const port = hit.ingress!.rule.match.ports!.find((r) => r.from <= 8080 && 8080 <= r.to)!;
    expect(port).toEqual({ protocol: "TCP", from: 8080, to: 8080, index: 1, name: "http" });
    // The address set is a reference into the IR's sets, holding the peer's pods.
    const set = ir.sets.get(hit.ingress!.rule.match.addr!.set)!;
    expect(set.elements).toEqual(["10.0.1.9"]);
  });

  test("an ipBlock peer: the first rule, peer 0, port entry 0", () => {
    const hit = lookupPolicyRules(ir, { src: "192.168.7.7", dst: "10.0.0.1", protocol: "TCP", port: 22 });
    expect(hit.ingress!.rule.origin).toMatchObject({ policy: "prod/allow-web", rule: 0, peer: 0 });
    expect(hit.ingress!.rule.match.ports![0]!.index).toBe(0);
  });

  test("a dropped connection ends at the isolation rule, naming the isolating policies", () => {
    const hit = lookupPolicyRules(ir, { src: "10.0.1.9", dst: "10.0.0.1", protocol: "TCP", port: 80 });
    expect(hit.ingress!.rule.verdict).toBe("drop");
    expect(hit.ingress!.rule.origin).toEqual({
      kind: "isolation",
      direction: "ingress",
      pod: "prod/web",
      policies: ["allow-web"],
    });
  });

  test("egress then ingress: both hits when both ends are local and isolated", () => {
    const hit = lookupPolicyRules(ir, { src: "10.0.0.2", dst: "10.0.0.1", protocol: "TCP", port: 8080 });
    expect(hit.egress!.chain).toBe("egr/prod/db");
    expect(hit.egress!.rule.verdict).toBe("return");
    // An egress named-port rule: the (addr, proto, port) set, and the port entry in the origin.
    expect(hit.egress!.rule.match.addrPort).toBeDefined();
    expect(hit.egress!.rule.origin).toEqual({
      kind: "allow",
      policy: "prod/db-egress",
      direction: "egress",
      rule: 0,
      peer: 0,
      port: 0,
    });
    expect(hit.ingress!.rule.origin).toMatchObject({ policy: "prod/allow-web", rule: 1, peer: 0 });
    const denied = lookupPolicyRules(ir, { src: "10.0.0.2", dst: "10.0.0.1", protocol: "TCP", port: 443 });
    expect(denied.egress!.rule.origin.kind).toBe("isolation");
    expect(denied.ingress).toBeUndefined(); // dropped on the way out
  });

  test("a pod no policy isolates has no chain: no hit, allowed", () => {
    expect(lookupPolicyRules(ir, { src: "10.0.0.1", dst: "10.0.1.9", protocol: "UDP", port: 53 })).toEqual(
      {},
    );
  });
});
