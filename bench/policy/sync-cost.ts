// Where the policy part of a cold full sync goes, in-process, against the real nftables of the
// namespace this runs in (run it inside a fresh one: `ip netns exec tt-t-x bun ...`): the
// synthetic cluster of bench/policy.ts as the agent receives it (one JSON text per object, as
// the datastore's list returns them), then the agent's steps — parse, strip (stripPod), validate
// (storedObjectErrors, as the mirror does on ingestion), feed, first compile, render, the first
// load (in process through libnftables as the agent does it, decision 0022; `--write process`:
// through an nft process, as before it), the applied state — and the warm path's read-back
// (nft -j list + parse). Prints wall and CPU ms per step and the RSS / high-water mark after each.
//
//   ip netns add tt-t-sc && ip netns exec tt-t-sc bun bench/policy/sync-cost.ts [--pods 10000]
//     [--policies 1000] [--local 100] [--write lib|process]; ip netns del tt-t-sc
import { readFileSync } from "node:fs";
import { stripPod } from "../../src/agent/policy-manager.ts";
import { IncrementalPolicy } from "../../src/calc/policy-incremental.ts";
import { LinuxNft } from "../../src/dataplane/linux/linux-nft.ts";
import type { NetworkPolicyResource, PodResource } from "../../src/model/k8s-resources.ts";
import { storedObjectErrors } from "../../src/model/validate-stored-object.ts";
import { parsePolicyState } from "../../src/render/policy-kernel-state.ts";
import { policyStateOf, renderPolicyDelta } from "../../src/render/policy-nft.ts";
import { benchNamespaces, benchPod, benchPolicy } from "./synthetic-cluster.ts";

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : d;
};
const nPods = Number(opt("--pods", "10000"));
const nPols = Number(opt("--policies", "1000"));
const local = Number(opt("--local", "100"));
const write = opt("--write", "lib");
const key = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;

const mem = (): { rssMb: number; hwmMb: number } => {
  const s = readFileSync("/proc/self/status", "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rssMb: Math.round(kb("VmRSS") / 1024), hwmMb: Math.round(kb("VmHWM") / 1024) };
};
const steps: Record<string, unknown>[] = [];
async function step<T>(name: string, f: () => T | Promise<T>): Promise<T> {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = await f();
  const d = process.cpuUsage(c);
  steps.push({
    step: name,
    wallMs: Math.round(performance.now() - t),
    cpuMs: Math.round((d.user + d.system) / 1000),
    ...mem(),
  });
  return r;
}

// What the list delivers: one JSON text per object (a pod as kubelet would write it, with more
// fields than policy reads: the strip drops them).
const podTexts = Array.from({ length: nPods }, (_, i) => JSON.stringify(benchPod(i, local)));
const polTexts = Array.from({ length: nPols }, (_, j) => JSON.stringify(benchPolicy(j)));
const nsObjs = benchNamespaces();
steps.push({ step: "texts made", ...mem() });
const pods = await step("parse pods", () => podTexts.map((t) => JSON.parse(t) as PodResource));
const pols = await step("parse policies", () => polTexts.map((t) => JSON.parse(t) as NetworkPolicyResource));
const stripped = await step("strip pods", () => pods.map((p) => stripPod(p)));
await step("validate (pods, policies)", () => {
  for (const o of [...stripped, ...pols])
    if (storedObjectErrors(o).length) throw new Error(`${key(o)} is refused on ingestion`);
});
const inc = new IncrementalPolicy("node-1");
await step("feed", () => {
  for (const n of nsObjs) inc.setNamespace(n.metadata.name, n);
  for (const p of pols) inc.setPolicy(key(p), p);
  for (const p of stripped) inc.setPod(key(p), p);
});
const ir = await step("first compile", () => inc.compile());
const delta = await step("render (full delta)", () => renderPolicyDelta(parsePolicyState(undefined), ir));
const nft = new LinuxNft("nft", write === "process" ? { libnftables: false } : {});
await step(`first load, ${write} (${delta.changes} objects, ${delta.script.length >> 10} KiB)`, () =>
  nft.apply(null, delta.script, { mayBlock: true }),
);
if (write !== "process") {
  nft.releaseMemory();
  steps.push({ step: "after malloc_trim", ...mem() });
}
await step("applied state", () => policyStateOf(ir));
const json = await step("warm: nft -j list", () => nft.listJson(null, "inet", "tartan"));
const kernel = await step("warm: parse state", () => parsePolicyState(json));
await step("warm: delta", () => renderPolicyDelta(kernel, ir));
await nft.apply(null, "delete table inet tartan\n");
Bun.gc(true);
steps.push({ step: "after gc", ...mem() });
for (const s of steps) process.stdout.write(`${JSON.stringify(s)}\n`);
