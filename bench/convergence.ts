// Convergence of the node agent on a 3-node tartan lab (real etcd, real agents, real kernel):
//  (a) pod reachability: time from the start of a pod's CNI ADD on node-1 until it answers from a
//      pod on every other node (probers in those pods try TCP in a tight loop, 10 ms per attempt;
//      the pod's own kernel answering with a RST counts), p50/p99 over --pods pods;
//  (b) remote nodes: N remote nodes (Node + IPAMBlock, written straight into the lab's etcd with
//      the datastore code; no namespace behind them) until the agent of node-1 has all N block
//      routes (+ neighbour and FDB entries for vxlan) in its kernel, and the removal back;
//      p50/p99 over --trials trials per N. Same-run yardstick (there is no kernel "reference" for
//      convergence): one hand-written `ip -batch` (+ `bridge -batch`) of the same N entries.
// Targets: (b) p99 <= 1 s at 100 nodes, <= 2 s at 1000.
//
//   npm run bench:convergence [-- --pods 20] [--counts 10,100,1000] [--trials 5] [--json]
//   npm run bench:convergence -- --datastore kubernetes [...]
//
// --datastore kubernetes: the lab runs its stand-in Kubernetes API server on its etcd and the
// agents in Kubernetes mode (`lab up --datastore kubernetes`). (a) then starts when the Pod is
// created through the API (kube-pods.ts, the datastore adapter, from the fabric namespace), before
// its CNI ADD, as kubelet gets it; (b) writes every Node and IPAMBlock through the API (one create
// per object, 64 in flight; there is no burst transaction in the Kubernetes API).
//   npm run bench:convergence -- --backend bgp [--nodes 10,50] [--pods 20] [--json]
//     (c) instead: pod ADD in a fresh block -> reachable from every node, on N-node labs of
//     that backend and of vxlan in the same run, plus bird's memory per node
//     (bench/convergence/fresh-block.ts).
//
// Safety: everything inside namespaces created here: the lab tl-<lab>-* (`tartan lab up/down`),
// the pods of (a) and the yardstick's namespaces tt-t-* (test harness). The fake nodes' underlay
// addresses (198.18.2.0+) get permanent neighbours and FDB entries but no traffic. Probers and
// the remote-node writer are stopped by PID; lab and namespaces are removed at the end, also on
// failure and on SIGINT/SIGTERM/SIGHUP.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { resolve } from "node:path";
import { run } from "../src/exec/run.ts";
import { callCni } from "../src/lab/cni-call.ts";
import { labPaths } from "../src/lab/lab-paths.ts";
import { createNetns, isRoot } from "../test/harness/netns.ts";
import { summarize } from "./cni/stats.ts";
import { type FreshBlockResult, freshBlockRun } from "./convergence/fresh-block.ts";
import { LineProcess } from "./convergence/line-process.ts";
import { cleanupAll, cleanupOnSignals, trackLab, trackProcess } from "./lab/cleanup.ts";
import { labName, labPodAdd, labUp, TARTAN } from "./lab/lab-cli.ts";
import { type LabEtcdInfo, labEtcdArgv } from "./lab/lab-etcd.ts";

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : d;
};
const pods = Number(opt("--pods", "20"));
const counts = opt("--counts", "10,100,1000").split(",").map(Number);
const trials = Number(opt("--trials", "5"));
const trialsOneByOne = Number(opt("--trials-one-by-one", "3"));
const json = argv.includes("--json");
const skipPods = argv.includes("--skip-pods");
const datastoreOpt = opt("--datastore", "etcd");
if (datastoreOpt !== "etcd" && datastoreOpt !== "kubernetes") {
  process.stderr.write(`convergence: --datastore must be etcd or kubernetes, got ${datastoreOpt}\n`);
  process.exit(2);
}
const datastore: "etcd" | "kubernetes" = datastoreOpt;
const kubernetes = datastore === "kubernetes";
const backend = opt("--backend", "");
const labNodes = opt("--nodes", "10,50").split(",").map(Number);
const TARGETS: Record<number, number> = { 100: 1000, 1000: 2000 };
const log = (m: string): void => void process.stderr.write(`convergence: ${m}\n`);
const now = () => performance.timeOrigin + performance.now();

if (!isRoot) {
  log("needs root (it creates network namespaces)");
  process.exit(2);
}
if (!existsSync(TARTAN)) {
  log(`${TARTAN} is missing: run \`npm run build\` first`);
  process.exit(2);
}
cleanupOnSignals(log);

interface Reach {
  reach: number[];
  add: number[];
  afterAdd: number[];
  /** Kubernetes mode: the Pod's create through the API, before its ADD (included in reach). */
  api: number[];
}

async function podReachability(lab: string, kubeconfig?: string): Promise<Reach> {
  const paths = labPaths(lab);
  const probers: LineProcess[] = [];
  const podWriter = kubeconfig
    ? new LineProcess([
        "ip",
        "netns",
        "exec",
        paths.fabricNetns,
        process.execPath,
        resolve(import.meta.dir, "convergence/kube-pods.ts"),
        "--kubeconfig",
        kubeconfig,
      ])
    : undefined;
  for (const n of [2, 3]) {
    const p = await labPodAdd(lab, `node-${n}`, `probe${n}`);
    probers.push(
      new LineProcess([
        "ip",
        "netns",
        "exec",
        p.netns,
        process.execPath,
        resolve(import.meta.dir, "convergence/prober.ts"),
      ]),
    );
  }
  const netconf = JSON.parse(readFileSync(`${paths.nodeDir("node-1")}/cni.json`, "utf8")) as Record<
    string,
    unknown
  >;
  const out: Reach = { reach: [], add: [], afterAdd: [], api: [] };
  try {
    for (let i = 0; i <= pods; i++) {
      const ns = await createNetns("cvp");
      const t0 = now();
      if (podWriter) {
        podWriter.send(`bench conv-${i} node-1`);
        const a = JSON.parse(await podWriter.next()) as { ok: boolean; ms?: number; error?: string };
        if (!a.ok) throw new Error(`Pod bench/conv-${i} not created through the API: ${a.error}`);
      }
      const tAdd = now();
      const result = await callCni({
        command: "ADD",
        tartan: TARTAN,
        nodeNetns: paths.nodeNetns(1),
        podNetns: ns.name,
        containerId: randomBytes(16).toString("hex"),
        ifname: "eth0",
        podNamespace: "bench",
        podName: `conv-${i}`,
        netconf,
      });
      const t1 = now();
      const ip = ((result?.ips ?? []) as { address: string }[])[0]!.address.split("/")[0]!;
      for (const p of probers) p.send(`${ip} 9 10000`);
      const answers = (await Promise.all(probers.map((p) => p.next()))).map(
        (l) => JSON.parse(l) as { ok: boolean; at: number; attempts: number },
      );
      if (answers.some((a) => !a.ok)) throw new Error(`pod ${ip} not reachable from every node within 10 s`);
      if (i === 0) continue; // warm-up: page cache, first spawn of the plugin
      const reached = Math.max(...answers.map((a) => a.at));
      out.reach.push(reached - t0);
      out.add.push(t1 - tAdd);
      out.afterAdd.push(reached - t1);
      if (podWriter) out.api.push(tAdd - t0);
      log(
        `pod ${i}/${pods} ${ip}: reachable from every node ${(reached - t0).toFixed(0)} ms after ${podWriter ? `its create through the API (API ${(tAdd - t0).toFixed(0)} ms, ` : "ADD started ("}ADD ${(t1 - tAdd).toFixed(0)} ms)`,
      );
    }
  } finally {
    for (const p of probers) await p.stop();
    await podWriter?.stop();
  }
  return out;
}

interface RemoteTrial {
  n: number;
  total: number;
  writes: number;
  afterWrites: number;
  removal: number;
  applies: number;
  applySeconds: number;
  kernelChanges: number;
  writesInLog: { ms: number; changes: number }[];
}

async function remoteNodes(
  mode: "burst" | "one-by-one",
  nTrials: number,

  lab: string,
  etcd: LabEtcdInfo,
  kubeconfig?: string,
): Promise<{ results: RemoteTrial[]; profiles: Record<string, number>[] }> {
  const paths = labPaths(lab);
  const p = Bun.spawn(
    [
      "ip",
      "netns",
      "exec",
      paths.fabricNetns,
      process.execPath,
      resolve(import.meta.dir, "convergence/remote-nodes.ts"),
      ...(kubeconfig ? ["--datastore", "kubernetes", "--kubeconfig", kubeconfig] : labEtcdArgv(etcd)),
      "--node-netns",
      paths.nodeNetns(1),
      "--agent-log",
      `${paths.nodeDir("node-1")}/agent.log`,
      "--counts",
      counts.join(","),
      "--trials",
      String(nTrials),
      "--mode",
      mode,
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "inherit", env: { ...process.env, TARTAN_BIN: TARTAN } },
  );
  trackProcess(p);
  const text = await new Response(p.stdout as ReadableStream).text();
  const code = await p.exited;
  if (code !== 0) throw new Error(`remote-nodes helper exited ${code}`);
  return JSON.parse(text);
}

/** The yardstick: the same N neighbours, FDB entries and onlink routes, one `bridge -batch` + one `ip -batch`. */
async function ipBatchYardstick(): Promise<Map<number, number[]>> {
  const a = await createNetns("cvy");
  const b = await createNetns("cvz");
  await run(["ip", "-n", a.name, "-batch", "-"], {
    stdin: [
      `link add eth0 type veth peer name eth0 netns ${b.name}`,
      "addr add 198.18.0.11/24 dev eth0",
      "link set eth0 up",
      "link add tartan.vxlan type vxlan id 4096 local 198.18.0.11 dev eth0 dstport 4789 nolearning",
      "link set tartan.vxlan mtu 1450 up",
      "",
    ].join("\n"),
  });
  const out = new Map<number, number[]>();
  for (const n of counts) {
    const fdb: string[] = [];
    const ip: string[] = [];
    const del: string[] = [];
    for (let i = 0; i < n; i++) {
      const addr = `198.18.${2 + Math.floor(i / 200)}.${10 + (i % 200)}`;
      const mac = `02:bb:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
      const block = `10.${245 + (i >> 8)}.${i & 0xff}.0/26`;
      fdb.push(`fdb append ${mac} dev tartan.vxlan dst ${addr} self permanent`);
      ip.push(`neigh replace ${addr} lladdr ${mac} dev tartan.vxlan nud permanent`);
      ip.push(`route add ${block} via ${addr} dev tartan.vxlan onlink proto 201`);
      del.push(`route del ${block}`, `neigh del ${addr} dev tartan.vxlan`);
    }
    const ms: number[] = [];
    for (let t = 0; t < trials; t++) {
      const t0 = now();
      await run(["bridge", "-n", a.name, "-batch", "-"], { stdin: `${fdb.join("\n")}\n` });
      await run(["ip", "-n", a.name, "-batch", "-"], { stdin: `${ip.join("\n")}\n` });
      ms.push(now() - t0);
      await run(["ip", "-n", a.name, "-batch", "-"], { stdin: `${del.join("\n")}\n` });
      await run(["bridge", "-n", a.name, "fdb", "flush", "dev", "tartan.vxlan"], { allowFailure: true });
    }
    out.set(n, ms);
  }
  return out;
}

async function freshBlocks(started: string, machine: string): Promise<void> {
  const results: FreshBlockResult[] = [];
  for (const n of labNodes) {
    for (const b of backend === "vxlan" ? ["vxlan"] : [backend, "vxlan"]) {
      results.push(await freshBlockRun(b, n, pods, log));
    }
  }
  if (json) {
    console.log(JSON.stringify({ started, machine, freshBlock: results }, null, 2));
    return;
  }
  const f = (x: number) => x.toFixed(0);
  console.log(
    `convergence, fresh block per pod (--block-size 30), ${backend} vs vxlan; ${machine}; ${started}`,
  );
  console.log(
    `\n(c) pod ADD on node-1 in a fresh block -> reachable from every other node, ${pods} pods, ms`,
  );
  console.log(
    "| nodes | backend | ADD start -> reachable p50 | p99 | max | ADD p50 | ADD returned -> reachable p50 / p99 | bird RSS per node (mean / max) | lab up | sessions Established after |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    const rss = r.birdRssKiB
      ? `${(r.birdRssKiB.mean / 1024).toFixed(1)} / ${(r.birdRssKiB.max / 1024).toFixed(1)} MiB`
      : "-";
    console.log(
      `| ${r.nodes} | ${r.backend} | ${f(r.reach.p50)} | ${f(r.reach.p99)} | ${f(r.reach.max)} | ${f(r.add.p50)} | ${f(r.afterAdd.p50)} / ${f(r.afterAdd.p99)} | ${rss} | ${r.upSeconds.toFixed(0)} s | ${r.meshSeconds !== undefined ? `${r.meshSeconds.toFixed(1)} s` : "-"} |`,
    );
  }
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const machine = `${cpus().length} vCPU ${cpus()[0]?.model ?? ""}, kernel ${release()}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`;
  if (backend) return await freshBlocks(started, machine);
  const name = labName("bcv");
  trackLab(name);
  log(`lab ${name} up (3 nodes, vxlan, datastore ${datastore})`);
  const lab = await labUp(name, { nodes: 3, backend: "vxlan", datastore });
  const kubeconfig = kubernetes
    ? (JSON.parse(readFileSync(labPaths(name).stateFile, "utf8")) as { kubeApi: { kubeconfig: string } })
        .kubeApi.kubeconfig
    : undefined;
  const reach = skipPods ? undefined : await podReachability(name, kubeconfig);
  // The Kubernetes API has no multi-object transaction: only one create per object there.
  let remote = { results: [] as RemoteTrial[], profiles: [] as Record<string, number>[] };
  if (!kubernetes) {
    log(`remote nodes ${counts.join(", ")}, burst writes, ${trials} trials each`);
    remote = await remoteNodes("burst", trials, name, lab.etcd);
  }
  const nOneByOne = kubernetes ? trials : trialsOneByOne;
  log(`remote nodes ${counts.join(", ")}, one Datastore.create per object, ${nOneByOne} trials each`);
  const oneByOne =
    nOneByOne > 0 ? await remoteNodes("one-by-one", nOneByOne, name, lab.etcd, kubeconfig) : undefined;
  log("yardstick: ip -batch of the same entries");
  const yard = await ipBatchYardstick();

  const rowsOf = (results: RemoteTrial[]) =>
    counts.map((n) => {
      const ts = results.filter((r) => r.n === n);
      const s = (f: (r: RemoteTrial) => number) => summarize(ts.map(f));
      const total = s((r) => r.total);
      return {
        n,
        trials: ts.length,
        total,
        writes: s((r) => r.writes),
        afterWrites: s((r) => r.afterWrites),
        removal: s((r) => r.removal),
        applies: s((r) => r.applies),
        applyMs: s((r) => r.applySeconds * 1000),
        ipBatch: summarize(yard.get(n)!),
        target: TARGETS[n],
        met: TARGETS[n] === undefined ? undefined : total.p99 <= TARGETS[n]!,
      };
    });
  const tables = [
    ...(kubernetes
      ? []
      : [
          {
            title: "burst writes (<= 128 puts per etcd txn, all at once)",
            rows: rowsOf(remote.results),
            n: trials,
          },
        ]),
    ...(oneByOne
      ? [
          {
            title: kubernetes
              ? "one create per object through the Kubernetes API, 64 in flight"
              : "one Datastore.create per object, 64 in flight",
            rows: rowsOf(oneByOne.results),
            n: nOneByOne,
          },
        ]
      : []),
  ];
  if (json) {
    console.log(
      JSON.stringify({ started, machine, datastore, pods: reach, remote, oneByOne, tables }, null, 2),
    );
    return;
  }
  const f = (x: number) => x.toFixed(0);
  console.log(`convergence, 3-node vxlan lab ${name}, datastore ${datastore}; ${machine}; ${started}`);
  if (reach) {
    const r = summarize(reach.reach);
    const a = summarize(reach.add);
    const aa = summarize(reach.afterAdd);
    const start = kubernetes ? "Pod created through the API" : "ADD start";
    console.log(
      `\n(a) pod ${kubernetes ? "create + " : ""}ADD on node-1 -> reachable from node-2 and node-3, ${r.n} pods, ms`,
    );
    console.log("| measure | p50 | p99 | max |");
    console.log("|---|---|---|---|");
    console.log(`| ${start} -> reachable from every other node | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} |`);
    if (kubernetes) {
      const api = summarize(reach.api);
      console.log(`| of which the create through the API | ${f(api.p50)} | ${f(api.p99)} | ${f(api.max)} |`);
    }
    console.log(`| of which the CNI ADD itself | ${f(a.p50)} | ${f(a.p99)} | ${f(a.max)} |`);
    console.log(`| ADD returned -> reachable | ${f(aa.p50)} | ${f(aa.p99)} | ${f(aa.max)} |`);
  }
  for (const t of tables) {
    console.log(
      `\n(b) N remote nodes written to ${kubernetes ? "the Kubernetes API" : "etcd"} (${t.title}) -> all N routes + neighbours + FDB in node-1's kernel, ms (${t.n} trials; p99 = max)`,
    );
    console.log(
      "| N | p50 | p99 | writes p50 | after writes p50 / p99 | removal p50 / p99 | agent applies p50 | ms in apply p50 | ip -batch yardstick p50 | target p99 | met |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of t.rows) {
      console.log(
        `| ${r.n} | ${f(r.total.p50)} | ${f(r.total.p99)} | ${f(r.writes.p50)} | ${f(r.afterWrites.p50)} / ${f(r.afterWrites.p99)} | ${f(r.removal.p50)} / ${f(r.removal.p99)} | ${f(r.applies.p50)} | ${f(r.applyMs.p50)} | ${r.ipBatch.p50.toFixed(1)} | ${r.target ? `<= ${r.target}` : "-"} | ${r.met === undefined ? "-" : r.met ? "yes" : "no"} |`,
      );
    }
  }
  for (const p of remote.profiles)
    console.log(`\nagent steps at N=${p.n}, one by one (ms): ${JSON.stringify(p)}`);
  for (const r of remote.results)
    console.log(
      `burst N=${r.n}: agent writes (ms after first etcd write: changes) ${r.writesInLog.map((w) => `${w.ms}:${w.changes}`).join(" ")}`,
    );
}

main()
  .catch((e) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  })
  .finally(() => cleanupAll(log));
