// The agent's own cost of one policy change, in-process (no kernel, no lab, no datastore): the
// synthetic cluster of bench/policy.ts (10k pods / 1k policies / 100 local by default) fed to
// IncrementalPolicy, then rounds of the three changes bench:policy times on the lab — a remote
// pod's label flip (peer-set membership), a new remote pod, a new policy — each followed by what
// the agent's apply does before nft: compile, renderPolicyDelta from the applied state, the next
// applied state. Prints CPU time (user+system of this process: less sensitive than wall time to
// other load on a shared machine) p50/p90 per kind, the cold feed + first compile, and RSS.
// To compare two builds, run it from each checkout (--root) in the same session, alternating.
//
//   bun bench/policy/change-cost.ts [--root <checkout>] [--pods 10000] [--policies 1000]
//                                   [--local 100] [--rounds 80] [--warmup 20]
import { heapStats } from "bun:jsc";
import { resolve } from "node:path";
import type { NetworkPolicyResource, PodResource } from "../../src/model/k8s-resources.ts";
import { benchNamespaces, benchPod, benchPolicy } from "./synthetic-cluster.ts";

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : d;
};
const root = resolve(opt("--root", resolve(import.meta.dir, "../..")));
const nPods = Number(opt("--pods", "10000"));
const nPols = Number(opt("--policies", "1000"));
const local = Number(opt("--local", "100"));
const rounds = Number(opt("--rounds", "80"));
const warmup = Number(opt("--warmup", "20"));

// The checkout under test: its compiler and renderer (the synthetic cluster is this one's).
const { IncrementalPolicy } = (await import(
  `${root}/src/calc/policy-incremental.ts`
)) as typeof import("../../src/calc/policy-incremental.ts");
const { policyStateOf, renderPolicyDelta, renderPolicyFull } = (await import(
  `${root}/src/render/policy-nft.ts`
)) as typeof import("../../src/render/policy-nft.ts");

const key = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;
const cpu = (f: () => void): number => {
  const c = process.cpuUsage();
  f();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000;
};
const q = (v: number[], p: number): number =>
  +[...v].sort((a, b) => a - b)[Math.floor(v.length * p)]!.toFixed(2);

const inc = new IncrementalPolicy("node-1");
const feedMs = cpu(() => {
  for (const n of benchNamespaces()) inc.setNamespace(n.metadata.name, n);
  for (let j = 0; j < nPols; j++) inc.setPolicy(key(benchPolicy(j)), benchPolicy(j));
  for (let i = 0; i < nPods; i++) inc.setPod(key(benchPod(i, local)), benchPod(i, local));
});
// The first compile: every selector peer evaluated against the pods (cold, JIT included).
let ir!: ReturnType<typeof inc.compile>;
const firstCompileMs = cpu(() => {
  ir = inc.compile();
});
let state = policyStateOf(ir);
const renderFullMs = cpu(() => void renderPolicyFull(ir));

const changes: Record<string, (k: number) => void> = {
  label: (k) => {
    const i = local + 5 + 5 * k;
    const l = benchPod(i, local).metadata.labels!;
    inc.setPod(key(benchPod(i, local)), benchPod(i, local, { ...l, tier: l.tier === "web" ? "api" : "web" }));
  },
  pod: (k) => {
    const p: PodResource = benchPod(20_000 + k, local, { app: `app-${k % 20}`, tier: "web", ver: "v1" });
    p.metadata.name = `p-new-${k}`;
    p.status = { phase: "Running", podIPs: [{ ip: `10.244.250.${k % 250}` }] };
    inc.setPod(key(p), p);
  },
  policy: (k) => {
    const pol: NetworkPolicyResource = benchPolicy(k);
    pol.metadata.name = `bench-inc-${k}`;
    pol.spec.ingress = [
      {
        from: [{ podSelector: { matchLabels: { ver: `v${k % 4}` } } }],
        ports: [{ protocol: "TCP", port: 7000 + k }],
      },
    ];
    inc.setPolicy(key(pol), pol);
  },
};
const ms: Record<string, number[]> = { label: [], pod: [], policy: [] };
for (let k = 0; k < warmup + rounds; k++) {
  for (const [kind, change] of Object.entries(changes)) {
    const c = cpu(() => {
      change(k);
      ir = inc.compile();
      renderPolicyDelta(state, ir);
      state = policyStateOf(ir);
    });
    if (k >= warmup) ms[kind]!.push(c);
  }
}
Bun.gc(true);
await Bun.sleep(100);
const result = {
  root,
  pods: nPods,
  policies: nPols,
  local,
  cpuMs: {
    feed: +feedMs.toFixed(0),
    firstCompile: +firstCompileMs.toFixed(0),
    renderFull: +renderFullMs.toFixed(0),
    ...Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, { p50: q(v, 0.5), p90: q(v, 0.9) }])),
  },
  rssMbAfterGc: Math.round(process.memoryUsage().rss / 2 ** 20),
  /** The JS heap after a full GC: what the compiler and the cluster hold (the process holds the inputs too). */
  heapMbAfterGc: +(heapStats().heapSize / 2 ** 20).toFixed(1),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
