// The incremental compile (IncrementalPolicy) against the full compile (compilePolicy, the
// reference): random sequences of pod, namespace and policy changes, the IRs compared after
// every step, on a small hand-made cluster and on a generated one (the benchmark's shapes).
import { describe, expect, test } from "bun:test";
import { benchNamespaces, benchPod, benchPolicy } from "../../bench/policy/synthetic-cluster.ts";
import { compilePolicy } from "../../src/calc/compile-policy.ts";
import { IncrementalPolicy } from "../../src/calc/policy-incremental.ts";
import type { PolicyIR } from "../../src/calc/policy-ir.ts";
import type {
  NamespaceResource,
  NetworkPolicyPeer,
  NetworkPolicyResource,
  PodResource,
} from "../../src/model/k8s-resources.ts";
import { policyStateOf, renderPolicyDelta } from "../../src/render/policy-nft.ts";
import { namespace, netpol, pod } from "../harness/k8s-objects.ts";

/** mulberry32: a seeded generator, so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Everything an IR says, in a form toEqual compares strictly (order of sets and maps included). */
const view = (ir: PolicyIR) => ({
  sets: [...ir.sets.entries()],
  chains: [...ir.chains.entries()],
  counters: [...ir.counters],
  pods: ir.pods,
  problems: ir.problems,
  policies: ir.policies,
});

const key = (o: { metadata: { namespace?: string; name: string } }) =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;

/** A cluster held both ways: plain maps (for the full compile) and the incremental compiler. */
class Twin {
  pods = new Map<string, PodResource>();
  namespaces = new Map<string, NamespaceResource>();
  policies = new Map<string, NetworkPolicyResource>();
  inc: IncrementalPolicy;
  constructor(
    readonly nodeName: string,
    readonly sctp = true,
  ) {
    this.inc = new IncrementalPolicy(nodeName, sctp);
  }
  pod(k: string, p: PodResource | undefined) {
    if (p) this.pods.set(k, p);
    else this.pods.delete(k);
    this.inc.setPod(k, p);
  }
  ns(k: string, n: NamespaceResource | undefined) {
    if (n) this.namespaces.set(k, n);
    else this.namespaces.delete(k);
    this.inc.setNamespace(k, n);
  }
  policy(k: string, p: NetworkPolicyResource | undefined) {
    if (p) this.policies.set(k, p);
    else this.policies.delete(k);
    this.inc.setPolicy(k, p);
  }
  full(): PolicyIR {
    return compilePolicy({
      nodeName: this.nodeName,
      pods: [...this.pods.values()],
      namespaces: [...this.namespaces.values()],
      policies: [...this.policies.values()],
      sctp: this.sctp,
    });
  }
  check(step: string): PolicyIR {
    const inc = this.inc.compile();
    const full = this.full();
    if (JSON.stringify(view(inc)) !== JSON.stringify(view(full))) {
      expect({ step, ...view(inc) }).toEqual({ step, ...view(full) });
    }
    return inc;
  }
}

// --- the small cluster: few labels and names, so changes often move pods in and out of peers ---
const NSS = ["prod", "dev", "ops"];
const APPS = ["web", "db", "api"];
function randomLabels(r: () => number): Record<string, string> {
  const l: Record<string, string> = {};
  if (r() < 0.8) l.app = APPS[Math.floor(r() * APPS.length)]!;
  if (r() < 0.5) l.tier = r() < 0.5 ? "front" : "back";
  return l;
}
function randomPod(r: () => number, k: string, i: number): PodResource {
  const ips = [`10.0.${Math.floor(r() * 3)}.${i % 250}`, ...(r() < 0.3 ? [`fd00::${i.toString(16)}`] : [])];
  return pod(k, r() < 0.05 ? [] : ips, {
    node: r() < 0.5 ? "n1" : "n2",
    labels: randomLabels(r),
    ports: r() < 0.6 ? [{ name: "http", containerPort: 8000 + Math.floor(r() * 3) }] : [],
    ...(r() < 0.05 ? { phase: "Succeeded" as const } : {}),
    ...(r() < 0.03 ? { hostNetwork: true } : {}),
  });
}
function randomPeer(r: () => number): NetworkPolicyPeer {
  const x = r();
  const podSel = () =>
    r() < 0.3
      ? {}
      : r() < 0.7
        ? { matchLabels: { app: APPS[Math.floor(r() * APPS.length)]! } }
        : { matchExpressions: [{ key: "tier", operator: r() < 0.5 ? "Exists" : "DoesNotExist" } as const] };
  if (x < 0.4) return { podSelector: podSel() };
  if (x < 0.6) return { namespaceSelector: r() < 0.3 ? {} : { matchLabels: { env: r() < 0.5 ? "p" : "d" } } };
  if (x < 0.85)
    return {
      namespaceSelector: {
        matchLabels: { "kubernetes.io/metadata.name": NSS[Math.floor(r() * NSS.length)]! },
      },
      podSelector: podSel(),
    };
  return { ipBlock: { cidr: "10.0.0.0/16", except: r() < 0.5 ? ["10.0.1.0/24"] : [] } };
}
function randomPolicy(r: () => number, k: string): NetworkPolicyResource {
  const ports = () =>
    r() < 0.4
      ? undefined
      : [
          r() < 0.5 ? { port: "http" } : { port: 80 + Math.floor(r() * 3) },
          ...(r() < 0.2 ? [{ protocol: "UDP" as const, port: 53 }] : []),
          ...(r() < 0.1 ? [{ protocol: "SCTP" as const, port: 9 }] : []),
          ...(r() < 0.03 ? [{ port: 70000 }] : []), // invalid: reported
        ];
  const rule = (dir: "from" | "to") => {
    const p = ports();
    const peers =
      r() < 0.2 ? undefined : Array.from({ length: 1 + Math.floor(r() * 2) }, () => randomPeer(r));
    return { ...(p ? { ports: p } : {}), ...(peers ? { [dir]: peers } : {}) };
  };
  const types = [["Ingress"], ["Egress"], ["Ingress", "Egress"], undefined][Math.floor(r() * 4)];
  return netpol(k, {
    podSelector: r() < 0.3 ? {} : { matchLabels: { app: APPS[Math.floor(r() * APPS.length)]! } },
    ...(types ? { policyTypes: types as ("Ingress" | "Egress")[] } : {}),
    ...(r() < 0.8 ? { ingress: Array.from({ length: Math.floor(r() * 3) }, () => rule("from")) } : {}),
    ...(r() < 0.6 ? { egress: Array.from({ length: Math.floor(r() * 3) }, () => rule("to")) } : {}),
  });
}

describe("incremental compile == full compile", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`small cluster, random changes (seed ${seed})`, () => {
      const r = rng(seed);
      const t = new Twin("n1", seed % 2 === 0);
      const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
      t.check("empty");
      for (let step = 0; step < 250; step++) {
        const x = r();
        const i = Math.floor(r() * 30);
        const ns = pick(NSS);
        if (x < 0.45) {
          const k = `${ns}/p${i}`;
          t.pod(k, r() < 0.15 ? undefined : randomPod(r, k, i));
        } else if (x < 0.6) {
          t.ns(ns, r() < 0.2 ? undefined : namespace(ns, r() < 0.5 ? { env: pick(["p", "d"]) } : {}));
        } else {
          const k = `${ns}/pol${Math.floor(r() * 8)}`;
          t.policy(k, r() < 0.2 ? undefined : randomPolicy(r, k));
        }
        t.check(`seed ${seed} step ${step}`);
      }
      // 2.5–4.4 s each on a quiet machine: Bun's default 5 s fails them under load.
    }, 60_000);
  }

  test("generated cluster (the benchmark's shapes), label changes, new pods, policies, namespaces", () => {
    const r = rng(42);
    const t = new Twin("node-1");
    for (const n of benchNamespaces()) t.ns(n.metadata.name, n);
    for (let i = 0; i < 600; i++) {
      const p = benchPod(i, 30);
      t.pod(key(p), p);
    }
    for (let j = 0; j < 60; j++) {
      const p = benchPolicy(j);
      t.policy(key(p), p);
    }
    let prev = t.check("initial");
    for (let step = 0; step < 60; step++) {
      const x = r();
      if (x < 0.4) {
        const i = Math.floor(r() * 650);
        const labels = {
          app: `app-${Math.floor(r() * 20)}`,
          tier: ["web", "api", "db"][step % 3]!,
          ver: "v1",
        };
        const p = benchPod(i, 30, labels);
        t.pod(key(p), p);
      } else if (x < 0.55) {
        const p = benchPod(Math.floor(r() * 650), 30);
        t.pod(key(p), r() < 0.5 ? undefined : p);
      } else if (x < 0.7) {
        const n = benchNamespaces()[Math.floor(r() * 50)]!;
        t.ns(n.metadata.name, {
          ...n,
          metadata: {
            ...n.metadata,
            labels: { ...n.metadata.labels, team: `t-${step % 10}`, env: r() < 0.5 ? "prod" : "dev" },
          },
        });
      } else {
        const p = benchPolicy(Math.floor(r() * 80));
        t.policy(key(p), r() < 0.3 ? undefined : p);
      }
      const ir = t.check(`generated step ${step}`);
      // The delta from the previous IR equals the delta computed without the identity shortcut.
      const d = renderPolicyDelta(policyStateOf(prev), ir);
      const copied = policyStateOf(prev);
      for (const [n, s] of copied.sets) copied.sets.set(n, { ...s, elements: [...s.elements] });
      expect(d).toEqual(renderPolicyDelta(copied, ir));
      prev = ir;
    }
  }, 60_000);

  test("peers no compile uses any more are dropped", () => {
    const t = new Twin("n1");
    t.pod("prod/a", pod("prod/a", ["10.0.0.1"], { labels: { app: "web" } }));
    t.policy(
      "prod/x",
      netpol("prod/x", { ingress: [{ from: [{ podSelector: { matchLabels: { app: "db" } } }] }] }),
    );
    t.check("one peer");
    expect(t.inc.peerCount).toBe(1);
    t.policy("prod/x", undefined);
    t.check("no policy");
    expect(t.inc.peerCount).toBe(0);
  });
});
