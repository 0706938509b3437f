// `bench:convergence -- --datastore kubernetes`: the Kubernetes datastore against etcd, in one run.
// Two 3-node vxlan labs with the same options, one on etcd and one with the stand-in Kubernetes
// API server on its etcd (agents in Kubernetes mode), both up for the whole run; the measurements
// alternate between them pod by pod and trial by trial (the order flips each time), so both see
// the same machine and the printed ratios (Kubernetes / etcd) mean something on a noisy machine.
//  (a) a Pod created in the datastore (through the API, or straight into etcd) -> its CNI ADD ->
//      reachable from node-2 and node-3;
//  (b) N remote nodes (Node + IPAMBlock), one create per object, 64 in flight (the Kubernetes API
//      has no multi-object transaction, so etcd writes one by one too) -> all N routes, neighbours
//      and FDB entries in node-1's kernel, and the removal back.
import { readFileSync } from "node:fs";
import { labPaths } from "../../src/lab/lab-paths.ts";
import { type Summary, summarize } from "../cni/stats.ts";
import { trackLab } from "../lab/cleanup.ts";
import { labName, labUp } from "../lab/lab-cli.ts";
import { labEtcdArgv } from "../lab/lab-etcd.ts";
import { PodReach, type PodSample } from "./pod-reach.ts";
import { type RemoteTrial, runRemoteNodes } from "./run-remote-nodes.ts";

type Store = "etcd" | "kubernetes";
const STORES: readonly Store[] = ["etcd", "kubernetes"];

export interface CompareOptions {
  pods: number;
  counts: number[];
  trials: number;
  skipPods: boolean;
  json: boolean;
  started: string;
  machine: string;
  log: (m: string) => void;
}

export async function datastoreCompare(o: CompareOptions): Promise<void> {
  const labs = {} as Record<
    Store,
    { name: string; etcd: Parameters<typeof labEtcdArgv>[0]; kubeconfig?: string }
  >;
  for (const ds of STORES) {
    const name = labName(ds === "etcd" ? "bcve" : "bcvk");
    trackLab(name);
    o.log(`lab ${name} up (3 nodes, vxlan, datastore ${ds})`);
    const up = await labUp(name, { nodes: 3, backend: "vxlan", datastore: ds });
    const kubeconfig =
      ds === "kubernetes"
        ? (JSON.parse(readFileSync(labPaths(name).stateFile, "utf8")) as { kubeApi: { kubeconfig: string } })
            .kubeApi.kubeconfig
        : undefined;
    labs[ds] = { name, etcd: up.etcd, ...(kubeconfig ? { kubeconfig } : {}) };
  }
  const order = (i: number): readonly Store[] => (i % 2 === 0 ? STORES : [...STORES].reverse());

  const pods: Record<Store, PodSample[]> = { etcd: [], kubernetes: [] };
  if (!o.skipPods) {
    const reach = {} as Record<Store, PodReach>;
    try {
      for (const ds of STORES) {
        const l = labs[ds];
        reach[ds] = await PodReach.open(
          l.name,
          l.kubeconfig ? ["--kubeconfig", l.kubeconfig] : labEtcdArgv(l.etcd),
        );
      }
      for (let i = 0; i <= o.pods; i++) {
        for (const ds of order(i)) {
          const s = await reach[ds].one(i);
          // Pod 0 is the warm-up of each lab (page cache, the plugin's first spawn, the writer's connection).
          if (i > 0) pods[ds].push(s);
          o.log(
            `pod ${i}/${o.pods} ${ds}: reachable ${s.reach.toFixed(0)} ms after its create (create ${s.create.toFixed(0)}, ADD ${s.add.toFixed(0)})`,
          );
        }
      }
    } finally {
      for (const r of Object.values(reach)) await r.stop();
    }
  }

  const remote: Record<Store, RemoteTrial[]> = { etcd: [], kubernetes: [] };
  for (let t = 0; t < o.trials; t++) {
    for (const ds of order(t)) {
      const l = labs[ds];
      o.log(`remote nodes ${o.counts.join(", ")} one by one, ${ds}, trial ${t + 1}/${o.trials}`);
      const r = await runRemoteNodes({
        lab: l.name,
        mode: "one-by-one",
        trials: 1,
        counts: o.counts,
        etcd: l.etcd,
        ...(l.kubeconfig ? { kubeconfig: l.kubeconfig } : {}),
      });
      remote[ds].push(...r.results);
    }
  }

  if (o.json) {
    console.log(JSON.stringify({ started: o.started, machine: o.machine, labs, pods, remote }, null, 2));
    return;
  }
  const f = (x: number) => x.toFixed(0);
  const ratio = (k: number, e: number) => (e > 0 ? (k / e).toFixed(2) : "-");
  const row = (label: string, e: Summary, k: Summary) =>
    `| ${label} | ${f(e.p50)} / ${f(e.p99)} | ${f(k.p50)} / ${f(k.p99)} | ${ratio(k.p50, e.p50)} | ${ratio(k.p99, e.p99)} |`;
  console.log(
    `convergence, Kubernetes datastore against etcd, two 3-node vxlan labs measured alternately (${labs.etcd.name}, ${labs.kubernetes.name}); ${o.machine}; ${o.started}`,
  );
  if (!o.skipPods) {
    const s = (ds: Store, k: keyof PodSample) => summarize(pods[ds].map((p) => p[k]));
    console.log(
      `\n(a) Pod created in the datastore, then its CNI ADD on node-1 -> reachable from node-2 and node-3, ${pods.etcd.length} pods each, ms`,
    );
    console.log("| measure | etcd p50 / p99 | Kubernetes p50 / p99 | ratio p50 | ratio p99 |");
    console.log("|---|---|---|---|---|");
    console.log(
      row("create -> reachable from every other node", s("etcd", "reach"), s("kubernetes", "reach")),
    );
    console.log(row("of which the create", s("etcd", "create"), s("kubernetes", "create")));
    console.log(row("of which the CNI ADD", s("etcd", "add"), s("kubernetes", "add")));
    console.log(row("ADD returned -> reachable", s("etcd", "afterAdd"), s("kubernetes", "afterAdd")));
  }
  console.log(
    `\n(b) N remote nodes, one create per object (64 in flight) -> all N routes + neighbours + FDB in node-1's kernel, ${o.trials} trials each, ms (p99 = the worst)`,
  );
  console.log("| N | measure | etcd p50 / p99 | Kubernetes p50 / p99 | ratio p50 | ratio p99 |");
  console.log("|---|---|---|---|---|---|");
  const measures: [string, (r: RemoteTrial) => number][] = [
    ["first write -> all in the kernel", (r) => r.total],
    ["of which the writes", (r) => r.writes],
    ["last write -> all in the kernel", (r) => r.afterWrites],
    ["removal (first delete -> none left)", (r) => r.removal],
    ["agent applies", (r) => r.applies],
  ];
  for (const n of o.counts) {
    for (const [label, fn] of measures) {
      const s = (ds: Store) => summarize(remote[ds].filter((r) => r.n === n).map(fn));
      console.log(`| ${n} |${row(label, s("etcd"), s("kubernetes")).slice(1)}`);
    }
  }
}
