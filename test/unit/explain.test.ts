// explain: the verdict of A→B, the policies isolating each end and the exact allow rule, read
// off the policy IR each node compiles (compilePolicy + lookupPolicyRules), and the path from the
// source node's routing calc. The last block replays every upstream NetworkPolicy scenario of the
// e2e suite (test/harness/netpol/cases.ts) on an in-memory cluster of the same shape: explain's
// 9×9 matrix must equal the expected one for every step, port, protocol and family.
import { describe, expect, test } from "bun:test";
import { Explainer, type ExplainSnapshot, explain } from "../../src/calc/explain.ts";
import type { NamespaceResource, NetworkPolicyResource, PodResource } from "../../src/model/k8s-resources.ts";
import { parseK8sObject } from "../../src/model/parse-k8s-object.ts";
import { clusterNode, ipamBlock } from "../harness/cluster-objects.ts";
import { namespace, netpol, pod } from "../harness/k8s-objects.ts";
import { CASES, type CaseContext, EXTRA_CASES } from "../harness/netpol/cases.ts";
import { ALL_PODS, formatDiff, Reachability } from "../harness/netpol/reachability.ts";

const web = pod("prod/web", ["10.0.0.1", "fd00::1"], {
  node: "n1",
  labels: { app: "web" },
  ports: [{ name: "http", containerPort: 8080 }],
});
const db = pod("prod/db", ["10.0.0.2"], { node: "n1", labels: { app: "db" } });
const client = pod("dev/client", ["10.0.1.9"], { node: "n2", labels: { app: "client" } });
const api = pod("dev/api", ["10.0.1.10"], {
  node: "n2",
  labels: { app: "api" },
  ports: [{ name: "http", containerPort: 9090 }],
});

const snapshot = (policies: NetworkPolicyResource[]): ExplainSnapshot => ({
  pods: [web, db, client, api],
  namespaces: [namespace("dev", { team: "dev" }), namespace("prod")],
  policies,
  nodes: [
    clusterNode("n1", {
      underlayAddress: "198.18.0.1",
      underlaySubnet: "198.18.0.0/24",
      vtepMac: "0e:00:00:00:00:01",
    }),
    clusterNode("n2", {
      underlayAddress: "198.18.0.2",
      underlaySubnet: "198.18.0.0/24",
      vtepMac: "0e:00:00:00:00:02",
    }),
  ],
  blocks: [ipamBlock("10.0.0.0/24", "n1", "p"), ipamBlock("10.0.1.0/24", "n2", "p")],
  backend: "vxlan",
});

const allowWeb = netpol("prod/allow-web", {
  podSelector: { matchLabels: { app: "web" } },
  policyTypes: ["Ingress"],
  ingress: [
    {
      from: [{ ipBlock: { cidr: "192.168.0.0/16", except: ["192.168.5.0/24"] } }],
      ports: [{ protocol: "TCP", port: 22 }],
    },
    {
      from: [
        { podSelector: { matchLabels: { app: "db" } } },
        { namespaceSelector: { matchLabels: { team: "dev" } } },
      ],
      ports: [
        { protocol: "TCP", port: 443 },
        { protocol: "TCP", port: "http" },
      ],
    },
  ],
});
const clientEgress = netpol("dev/client-egress", {
  podSelector: { matchLabels: { app: "client" } },
  policyTypes: ["Egress"],
  egress: [
    { to: [{ podSelector: {}, namespaceSelector: {} }], ports: [{ protocol: "TCP", port: "http" }] },
    {
      to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.0.0.2/32"] } }],
      ports: [{ protocol: "UDP", port: 53 }],
    },
  ],
});

describe("explain: verdicts, isolating policies and the deciding rule", () => {
  const ex = new Explainer(snapshot([allowWeb, clientEgress]));

  test("allowed on a named ingress port: names the policy, rule, peer and port entry", () => {
    const e = ex.explain({ src: "dev/client", dst: "prod/web", port: 8080 });
    expect(e.verdict).toBe("allowed");
    expect(e.ingress).toMatchObject({
      pod: "prod/web",
      node: "n1",
      isolated: true,
      policies: ["prod/allow-web"],
      verdict: "allowed",
      rule: { policy: "prod/allow-web", index: 1, peer: 1, port: 1 },
    });
    expect(e.ingress.rule!.text).toBe(
      "spec.ingress[1]: from[1] namespaceSelector {team=dev}, ports[1] http (TCP 8080)",
    );
    // The client's egress named port "http" resolves on the destination (web: 8080).
    expect(e.egress).toMatchObject({
      verdict: "allowed",
      rule: { policy: "dev/client-egress", index: 0, peer: 0, port: 0 },
    });
  });

  test("an egress named port resolves on each destination pod: http is 9090 on api, 8080 on web", () => {
    expect(ex.explain({ src: "dev/client", dst: "dev/api", port: 9090 }).verdict).toBe("allowed");
    const e = ex.explain({ src: "dev/client", dst: "dev/api", port: 8080 });
    expect(e.verdict).toBe("denied");
    expect(e.egress).toMatchObject({ isolated: true, verdict: "denied", policies: ["dev/client-egress"] });
    expect(e.egress.reason).toContain("isolated for egress by dev/client-egress and no rule allows TCP/8080");
    expect(e.summary).toContain("denied by dev/client's egress");
  });

  test("denied at ingress: the pod is isolated by named policies and no rule allows the port", () => {
    const e = ex.explain({ src: "dev/client", dst: "prod/web", port: 80 });
    expect(e.verdict).toBe("denied");
    expect(e.egress.verdict).toBe("denied"); // the client may only egress to "http"
    const fromApi = ex.explain({ src: "dev/api", dst: "prod/web", port: 80 });
    expect(fromApi.egress).toMatchObject({ isolated: false, verdict: "allowed" });
    expect(fromApi.ingress).toMatchObject({
      isolated: true,
      verdict: "denied",
      policies: ["prod/allow-web"],
    });
    expect(fromApi.ingress.rule).toBeUndefined();
  });

  test("ipBlock with except: inside the block allowed, inside the except denied", () => {
    const ok = ex.explain({ src: "192.168.7.7", dst: "prod/web", port: 22 });
    expect(ok.src.kind).toBe("external");
    expect(ok.ingress.rule).toMatchObject({ index: 0, peer: 0, port: 0 });
    expect(ok.ingress.rule!.text).toBe(
      "spec.ingress[0]: from[0] ipBlock 192.168.0.0/16 except 192.168.5.0/24, ports[0] TCP 22",
    );
    expect(ex.explain({ src: "192.168.5.7", dst: "prod/web", port: 22 }).verdict).toBe("denied");
    // Egress ipBlock with an except on a pod address: 10.0.0.1 (web) allowed, 10.0.0.2 (db) not.
    expect(
      ex.explain({ src: "dev/client", dst: "10.0.0.1", protocol: "UDP", port: 53 }).egress.rule,
    ).toMatchObject({
      index: 1,
      peer: 0,
      port: 0,
    });
    expect(ex.explain({ src: "dev/client", dst: "10.0.0.2", protocol: "UDP", port: 53 }).egress.verdict).toBe(
      "denied",
    );
  });

  test("a protocol is not another: UDP to a TCP-only rule is denied", () => {
    expect(ex.explain({ src: "dev/api", dst: "prod/web", protocol: "UDP", port: 443 }).verdict).toBe(
      "denied",
    );
    expect(ex.explain({ src: "dev/api", dst: "prod/web", protocol: "TCP", port: 443 }).verdict).toBe(
      "allowed",
    );
  });

  test("addresses: an IP resolves to its pod; IPv6 picks the pod's IPv6 address", () => {
    const e = ex.explain({ src: "10.0.1.10", dst: "10.0.0.1", port: 443 });
    expect(e.src).toMatchObject({ pod: "dev/api", node: "n2", kind: "pod" });
    expect(e.dst).toMatchObject({ pod: "prod/web", ip: "10.0.0.1" });
    const v6 = ex.explain({ src: "fd00::99", dst: "prod/web", port: 443 });
    expect(v6.dst.ip).toBe("fd00::1");
    expect(v6.verdict).toBe("denied");
  });

  test("the node → its own pod is never filtered; another node is", () => {
    expect(ex.explain({ src: "198.18.0.1", dst: "prod/web", port: 80 })).toMatchObject({
      verdict: "allowed",
      src: { kind: "node", node: "n1" },
    });
    expect(ex.explain({ src: "198.18.0.2", dst: "prod/web", port: 80 }).verdict).toBe("denied");
  });

  test("no policy at all: allowed both ways, nothing isolated", () => {
    const e = explain(snapshot([]), { src: "prod/db", dst: "dev/api", port: 1 });
    expect(e.verdict).toBe("allowed");
    expect(e.egress).toMatchObject({ isolated: false, policies: [] });
    expect(e.ingress.reason).toBe("no policy isolates dev/api for ingress");
  });

  test("default port: the destination's first container port of the protocol", () => {
    expect(ex.explain({ src: "dev/api", dst: "prod/web" }).port).toBe(8080);
    expect(ex.explain({ src: "dev/api", dst: "prod/db" }).port).toBe(8080);
  });

  test("unknown ends are errors naming what to give", () => {
    expect(() => ex.explain({ src: "prod/nope", dst: "prod/web" })).toThrow("no pod prod/nope");
    expect(() => ex.explain({ src: "web", dst: "prod/web" })).toThrow("neither NS/POD nor an IP address");
  });

  test("path: VXLAN to another node's block, same node, blackholed address of a local block", () => {
    const e = ex.explain({ src: "prod/web", dst: "dev/api", port: 9090 });
    expect(e.path).toMatchObject({
      srcNode: "n1",
      dstNode: "n2",
      backend: "vxlan",
      kind: "tunnel",
      route: { dst: "10.0.1.0/24" },
      tunnel: { device: "tartan.vxlan", remote: "198.18.0.2", mac: "0e:00:00:00:00:02" },
    });
    expect(ex.explain({ src: "prod/web", dst: "prod/db", port: 1 }).path.kind).toBe("same-node");
    const hole = ex.explain({ src: "dev/api", dst: "10.0.1.77", port: 1 });
    expect(hole.path).toMatchObject({ kind: "unroutable", dstNode: "n2" });
    const hostGw = explain({ ...snapshot([]), backend: "host-gw" }, { src: "prod/web", dst: "dev/api" });
    expect(hostGw.path).toMatchObject({ kind: "direct", route: { dst: "10.0.1.0/24", via: "198.18.0.2" } });
  });
});

// ---- the upstream scenarios, in memory ----

const NODES = 3;
const PORTS = [80, 81].flatMap((p) =>
  (["TCP", "UDP", "SCTP"] as const).map((protocol) => ({
    name: `serve-${p}-${protocol.toLowerCase()}`,
    containerPort: p,
    protocol,
  })),
);

/** The lab of the e2e suite as objects: pods a, b, c in x, y, z over 3 nodes, dual-stack. */
class MemoryNetpolCluster {
  pods = new Map<string, PodResource>();
  namespaces = new Map<string, NamespaceResource>();
  policies = new Map<string, NetworkPolicyResource>();
  constructor() {
    ALL_PODS.forEach((key, i) => {
      this.pods.set(
        key,
        pod(key, [`10.244.${i % NODES}.${10 + i}`, `fd44::${i % NODES}:${10 + i}`], {
          node: `node-${(i % NODES) + 1}`,
          labels: { pod: key.split("/")[1]! },
          ports: PORTS,
        }),
      );
    });
    for (const ns of ["x", "y", "z"]) this.namespaces.set(ns, namespace(ns, { ns }));
  }
  ctx: CaseContext = {
    ip4: (k) => this.pods.get(k)!.status!.podIPs![0]!.ip,
    ip6: (k) => this.pods.get(k)!.status!.podIPs![1]!.ip,
  };
  apply(docs: Record<string, unknown>[], del = false): void {
    for (const d of docs) {
      const o = parseK8sObject(d) as unknown as NetworkPolicyResource;
      const key = `${o.metadata.namespace}/${o.metadata.name}`;
      if (del) this.policies.delete(key);
      else this.policies.set(key, o);
    }
  }
  label(kind: "pod" | "namespace", name: string, changes: string[]): void {
    const o = kind === "pod" ? this.pods.get(name)! : this.namespaces.get(name)!;
    const labels = { ...o.metadata.labels };
    for (const c of changes) {
      if (c.endsWith("-")) delete labels[c.slice(0, -1)];
      else labels[c.split("=")[0]!] = c.split("=")[1]!;
    }
    o.metadata = { ...o.metadata, labels };
  }
  explainer(): Explainer {
    return new Explainer({
      pods: [...this.pods.values()],
      namespaces: [...this.namespaces.values()],
      policies: [...this.policies.values()],
    });
  }
}

describe("explain's matrix equals every upstream scenario's expected matrix (in memory)", () => {
  for (const c of [...CASES, ...EXTRA_CASES]) {
    test(`${c.id}: ${c.title}`, () => {
      const cl = new MemoryNetpolCluster();
      let checks = 0;
      for (const step of c.steps(cl.ctx)) {
        if (step.apply) cl.apply(step.apply);
        if (step.delete) cl.apply(step.delete, true);
        for (const l of step.label ?? []) cl.label(l.kind, l.name, l.changes);
        const ex = cl.explainer();
        for (const check of step.checks) {
          const fam = check.family ?? 4;
          const ip = (k: string) => (fam === 6 ? cl.ctx.ip6(k) : cl.ctx.ip4(k));
          const got = Reachability.from(
            ALL_PODS,
            (a, b) =>
              a === b ||
              ex.explain({ src: ip(a), dst: ip(b), protocol: check.protocol, port: check.port }).verdict ===
                "allowed",
          );
          const bad = check.expect.mismatches(got);
          if (bad.length)
            throw new Error(
              `step "${step.what}" ${check.protocol} ${check.port}:\n${formatDiff(check.expect, got)}`,
            );
          checks++;
        }
      }
      expect(checks).toBeGreaterThan(0);
    });
  }
});
