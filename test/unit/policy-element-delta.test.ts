// Per-set element deltas: the incremental compile updates a pod-IP set at the addresses that may
// have changed and records what it added and removed (calc/element-delta.ts); the delta renderer
// then writes only those. Checked against the full diff (same script) over random change
// sequences, and withCandidates against a Set-based reference.
import { describe, expect, test } from "bun:test";
import { compilePolicy } from "../../src/calc/compile-policy.ts";
import { elementDeltaOf, withCandidates } from "../../src/calc/element-delta.ts";
import { IncrementalPolicy } from "../../src/calc/policy-incremental.ts";
import type { PolicyIR } from "../../src/calc/policy-ir.ts";
import type { NamespaceResource, PodResource } from "../../src/model/k8s-resources.ts";
import { policyStateOf, renderPolicyDelta } from "../../src/render/policy-nft.ts";
import { netpol, pod } from "../harness/k8s-objects.ts";

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

describe("withCandidates", () => {
  test("equals the sorted set with each candidate as isIn says (random)", () => {
    const r = rng(7);
    for (let trial = 0; trial < 300; trial++) {
      const universe = Array.from({ length: 40 }, (_, i) => `10.0.${i % 3}.${i}`);
      const base = [...new Set(universe.filter(() => r() < 0.5))].sort();
      const cands = universe.filter(() => r() < 0.3);
      const truth = new Set(base);
      for (const c of cands)
        if (r() < 0.5) truth.add(c);
        else truth.delete(c);
      const out = withCandidates(base, cands, (c) => truth.has(c));
      expect([...out]).toEqual([...truth].sort());
      const d = elementDeltaOf(out);
      if (out === base) expect(d).toBeUndefined();
      else {
        expect(d?.base).toBe(base);
        expect(d?.added).toEqual([...truth].filter((x) => !base.includes(x)).sort());
        expect(d?.removed).toEqual(base.filter((x) => !truth.has(x)));
      }
    }
  });
});

describe("delta rendering with element deltas == delta rendering by full diff", () => {
  for (const seed of [11, 12, 13]) {
    test(`random pod and namespace changes, seed ${seed}`, () => {
      const r = rng(seed);
      const nss = ["a", "b", "c"];
      const inc = new IncrementalPolicy("n1");
      const pods = new Map<string, PodResource>();
      const namespaces = new Map<string, NamespaceResource>();
      const put = (k: string, p: PodResource | undefined) => {
        if (p) pods.set(k, p);
        else pods.delete(k);
        inc.setPod(k, p);
      };
      const pols = [
        netpol("a/web", { ingress: [{ from: [{ podSelector: { matchLabels: { role: "client" } } }] }] }),
        netpol("b/any", {
          ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: "client" } } }] }],
          egress: [{ to: [{ namespaceSelector: { matchLabels: { env: "p" } } }] }],
        }),
      ];
      for (const p of pols) inc.setPolicy(`${p.metadata.namespace}/${p.metadata.name}`, p);
      for (const ns of nss)
        put(`${ns}/local`, pod(`${ns}/local`, [`10.1.0.${nss.indexOf(ns)}`], { node: "n1" }));
      let prev: PolicyIR = inc.compile();
      let annotated = 0;
      for (let step = 0; step < 300; step++) {
        const ns = nss[Math.floor(r() * 3)]!;
        const x = r();
        if (x < 0.85) {
          const i = Math.floor(r() * 40);
          const k = `${ns}/p${i}`;
          // Few addresses for many pods: conflicts (two pods, one IP) happen and must keep the IP.
          const ips = [
            `10.0.0.${Math.floor(r() * 30)}`,
            ...(r() < 0.3 ? [`fd00::${Math.floor(r() * 30)}`] : []),
          ];
          put(
            k,
            r() < 0.15 ? undefined : pod(k, ips, { node: "n2", labels: r() < 0.5 ? { role: "client" } : {} }),
          );
        } else {
          const n: NamespaceResource = {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: ns, labels: r() < 0.5 ? { env: "p" } : {} },
            spec: {},
          };
          namespaces.set(ns, n);
          inc.setNamespace(ns, n);
        }
        const ir = inc.compile();
        for (const s of ir.sets.values()) if (s.type === "addr" && elementDeltaOf(s.elements)) annotated++;
        const fast = renderPolicyDelta(policyStateOf(prev), ir);
        const copied = policyStateOf(prev);
        for (const [n, s] of copied.sets) copied.sets.set(n, { ...s, elements: [...s.elements] });
        expect(fast).toEqual(renderPolicyDelta(copied, ir));
        // And the sets are those of a full compile of the same pods.
        const full = compilePolicy({
          nodeName: "n1",
          pods: [...pods.values()],
          namespaces: [...namespaces.values()],
          policies: pols,
        });
        expect([...ir.sets.keys()]).toEqual([...full.sets.keys()]);
        for (const [n, s] of full.sets) expect(ir.sets.get(n)!.elements).toEqual(s.elements);
        prev = ir;
      }
      expect(annotated).toBeGreaterThan(50);
    });
  }
});
