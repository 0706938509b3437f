// The policy compiler and renderer in-process (no kernel, no lab): the cost of the IR itself.
// At 10k pods / 1k policies (100 on this node) by default:
//  - full: compilePolicy + renderPolicyFull of the whole state, cold (fresh objects each trial);
//  - incremental: IncrementalPolicy with everything loaded, then one remote pod's label flipped
//    per trial: compile + renderPolicyDelta from the previous state (what the agent does per change);
//  - heap: the retained heap of one IR (heapUsed after GC with the IR held, minus without).
// Prints p50/mean (wall) and the median CPU time (user+system of this process, less sensitive
// to other load on a shared machine) per step and, with --json, one JSON object. Run the same
// script on two checkouts in the same session, alternating, to compare.
//
// The incremental step runs --warmup unmeasured changes first (JIT warm-up dominated 20-trial
// runs), then --trials measured ones, each a different pod.
//
//   bun bench/policy-compile.ts [--pods 10000] [--policies 1000] [--local 100] [--full-trials 5]
//                               [--warmup 20] [--trials 100] [--json]
import { heapStats } from "bun:jsc";
import { compilePolicy } from "../src/calc/compile-policy.ts";
import { IncrementalPolicy } from "../src/calc/policy-incremental.ts";
import type { PolicyIR } from "../src/calc/policy-ir.ts";
import { policyStateOf, renderPolicyDelta, renderPolicyFull } from "../src/render/policy-nft.ts";
import { benchNamespaces, benchPod, benchPolicy } from "./policy/synthetic-cluster.ts";

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const nPods = opt("--pods", 10_000);
const nPols = opt("--policies", 1_000);
const local = opt("--local", 100);
const fullTrials = opt("--full-trials", 5);
const warmup = opt("--warmup", 20);
const trials = opt("--trials", 100);

const key = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;
const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    p50: +s[Math.floor(s.length / 2)]!.toFixed(2),
    mean: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2),
    min: +s[0]!.toFixed(2),
    max: +s.at(-1)!.toFixed(2),
  };
};
const cpuMs: Record<string, number[]> = { compile: [], render: [], incremental: [] };
const time = <T>(fn: () => T, step: string): [T, number] => {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = fn();
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  cpuMs[step]!.push((d.user + d.system) / 1000);
  return [r, wall];
};
const median = (xs: number[]) => +[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(2);
const heapUsed = (): number => {
  Bun.gc(true);
  return heapStats().heapSize;
};

const namespaces = benchNamespaces();
const pods = Array.from({ length: nPods }, (_, i) => benchPod(i, local));
const policies = Array.from({ length: nPols }, (_, j) => benchPolicy(j));
const snapshot = { nodeName: "node-1", pods, namespaces, policies };

// Full compile + render, cold.
const compileMs: number[] = [];
const renderMs: number[] = [];
let scriptBytes = 0;
for (let t = 0; t < fullTrials; t++) {
  const [ir, c] = time(() => compilePolicy(snapshot), "compile");
  const [script, r] = time(() => renderPolicyFull(ir), "render");
  compileMs.push(c);
  renderMs.push(r);
  scriptBytes = script.length;
}

// Retained heap of one IR.
const before = heapUsed();
let held: PolicyIR | undefined = compilePolicy(snapshot);
const irHeapMb = (heapUsed() - before) / 2 ** 20;
const stats = {
  sets: held.sets.size,
  chains: held.chains.size,
  elements: [...held.sets.values()].reduce((n, s) => n + s.elements.length, 0),
};
held = undefined;

// Incremental: one remote pod's label flipped per trial, compile + delta.
const inc = new IncrementalPolicy("node-1");
for (const n of namespaces) inc.setNamespace(n.metadata.name, n);
for (const p of policies) inc.setPolicy(key(p), p);
for (const p of pods) inc.setPod(key(p), p);
let state = policyStateOf(inc.compile());
const incMs: number[] = [];
let changes = 0;
for (let t = 0; t < warmup + trials; t++) {
  // A remote pod (shape-0 namespace policies admit tier=web); after 1000 pods, the same ones flip back.
  const i = local + 5 * ((t % 1000) + 1);
  const orig = benchPod(i, local).metadata.labels!;
  const flipped = benchPod(i, local, { ...orig, tier: orig.tier === "web" ? "api" : "web" });
  const step = () => {
    inc.setPod(key(flipped), flipped);
    const ir = inc.compile();
    const delta = renderPolicyDelta(state, ir);
    if (t >= warmup) changes += delta.changes;
    state = policyStateOf(ir);
  };
  if (t < warmup) step();
  else incMs.push(time(step, "incremental")[1]);
}
const rssMb = process.memoryUsage().rss / 2 ** 20;

const result = {
  pods: nPods,
  policies: nPols,
  local,
  ir: stats,
  scriptKb: Math.round(scriptBytes / 1024),
  fullCompileMs: summary(compileMs),
  fullRenderMs: summary(renderMs),
  incrementalMs: summary(incMs),
  incrementalChangesPerTrial: changes / trials,
  cpuMedianMs: {
    fullCompile: median(cpuMs.compile!),
    fullRender: median(cpuMs.render!),
    incremental: median(cpuMs.incremental!),
  },
  irHeapMb: +irHeapMb.toFixed(1),
  rssMb: +rssMb.toFixed(0),
};
if (argv.includes("--json")) console.log(JSON.stringify(result));
else {
  console.log(`policy-compile: ${nPods} pods / ${nPols} policies / ${local} local`);
  console.log(
    `  IR: ${stats.sets} sets, ${stats.elements} elements, ${stats.chains} chains; script ${result.scriptKb} KiB`,
  );
  console.log(`  full compile ms  ${JSON.stringify(result.fullCompileMs)}`);
  console.log(`  full render ms   ${JSON.stringify(result.fullRenderMs)}`);
  console.log(
    `  incremental ms   ${JSON.stringify(result.incrementalMs)} (${result.incrementalChangesPerTrial} changes/trial)`,
  );
  console.log(`  CPU median ms    ${JSON.stringify(result.cpuMedianMs)}`);
  console.log(`  IR heap ${result.irHeapMb} MB, process RSS ${result.rssMb} MB`);
}
