// Runs inside the lab's fabric namespace (where etcd listens), started by bench/policy.ts. Writes
// the synthetic cluster (bench/policy/synthetic-cluster.ts) straight into the lab's etcd with the
// datastore's own key layout and object preparation, and times the agent of node-1:
//  (a) full sync: from `tartan lab agent start node-1` until its first policy apply is done
//      (tartan_policy_applies_total on its socket), cold (the policy objects removed from the
//      node's table first: everything is written) and warm (the kernel already matches: read back
//      and diff only); the agent log's own timestamps break the cold start down;
//  (b) incremental: one datastore write (pod label change, new pod, new policy) until the agent's
//      apply carrying it is done (applies_total +1 with a non-empty delta: nft -f has returned, so
//      the rule is in the kernel), p50/p99;
//  (c) iperf3 between the two real pods (server on node-1, client on node-2, both isolated and
//      allowed by policy) with all policies loaded vs none, alternating rounds;
//  (d) the agent's VmRSS/VmHWM at each size, its RssAnon/RssFile split and its JS heap (used / held).
// Prints one JSON document on stdout; progress on stderr.
import { readFileSync, statSync } from "node:fs";
import { prepareWrite } from "../../src/datastore/prepare-write.ts";
import { storeKey } from "../../src/datastore/store-key.ts";
import { run } from "../../src/exec/run.ts";
import type { Resource } from "../../src/model/resource.ts";
import { summarize } from "../cni/stats.ts";
import { cleanupAll } from "../lab/cleanup.ts";
import { labEtcd3, labEtcdConfig } from "../lab/lab-etcd.ts";
import { iperfClient, startIperfServer } from "../throughput/iperf.ts";
import { benchNamespaces, benchPod, benchPolicy, iperfPolicies, nsName } from "./synthetic-cluster.ts";

const argv = process.argv.slice(2);
const opt = (n: string, d = ""): string => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1]! : d;
};
const lab = opt("--lab");
const labDir = opt("--lab-dir");
const tartan = opt("--tartan");
const sizes = opt("--sizes", "1000:100,5000:500,10000:1000")
  .split(",")
  .map((s) => s.split(":").map(Number) as [number, number]);
const local = Number(opt("--local-pods", "100"));
const trials = Number(opt("--trials", "30"));
const syncTrials = Number(opt("--sync-trials", "3"));
const iperfSeconds = Number(opt("--iperf-seconds", "5"));
const iperfRounds = Number(opt("--iperf-rounds", "3"));
const server = { netns: opt("--server-netns"), ip: opt("--server-ip") };
const clientNetns = opt("--client-netns");
const node = "node-1";
const nodeNetns = `tl-${lab}-${node}`;
const socket = `${labDir}/${node}/agent.sock`;
const agentLog = `${labDir}/${node}/agent.log`;
const log = (m: string) => void process.stderr.write(`policy-bench: ${m}\n`);
const now = () => performance.timeOrigin + performance.now();
const TXN_OPS = 128;

const etcd = labEtcd3(labEtcdConfig(argv));
const key = (o: Resource) => `/tartan/${storeKey(o.kind, o.metadata.name, o.metadata.namespace)}`;

async function putAll(objs: Resource[], mode: "create" | "update" = "create"): Promise<void> {
  const chunks: Resource[][] = [];
  for (let i = 0; i < objs.length; i += TXN_OPS) chunks.push(objs.slice(i, i + TXN_OPS));
  for (let i = 0; i < chunks.length; i += 8) {
    await Promise.all(
      chunks.slice(i, i + 8).map((chunk) =>
        etcd.kv.txn({
          compare: [],
          success: chunk.map((o) => {
            const w = prepareWrite(o, "create");
            if (mode === "update") delete w.metadata.resourceVersion;
            return { request_put: { key: Buffer.from(key(o)), value: Buffer.from(JSON.stringify(w)) } };
          }),
        }),
      ),
    );
  }
}

async function metrics(): Promise<Map<string, number>> {
  const res = await fetch("http://tartan-agent/metrics", { unix: socket, signal: AbortSignal.timeout(5000) });
  const out = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    const m = /^(tartan_policy_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}
const applies = async () =>
  (await metrics().catch(() => new Map<string, number>())).get("tartan_policy_applies_total") ?? -1;

/** When the agent's first "policy applied" line after byte `offset` of its log was written, if it is there. */
async function firstApplyAt(offset: number): Promise<number | undefined> {
  const text = await Bun.file(agentLog).slice(offset).text();
  for (const l of text.split("\n")) {
    if (!l.includes('"policy applied"')) continue;
    try {
      return Date.parse((JSON.parse(l) as { time: string }).time);
    } catch {}
  }
  return undefined;
}

/** Until node-1's agent has applied after `before` and then stayed quiet for `quietMs`. */
async function settled(before: number, timeoutMs = 120_000, quietMs = 400): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = before;
  let since = Date.now();
  for (;;) {
    const a = await applies();
    if (a !== last) {
      last = a;
      since = Date.now();
    }
    if (last > before && Date.now() - since >= quietMs) return;
    if (Date.now() > deadline) throw new Error(`agent of ${node} did not apply within ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
}

interface AgentMemory {
  rssMb: number;
  hwmMb: number;
  /** The resident set split as the kernel counts it: anonymous (heap, JIT, allocator), file-backed (the executable's pages), shmem. */
  anonMb: number;
  fileMb: number;
  shmemMb: number;
  /** The agent's own tartan_agent_js_heap_bytes (used / held by the runtime), when it exports them. */
  heapUsedMb?: number;
  heapTotalMb?: number;
}

async function rss(pid: number): Promise<AgentMemory> {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? 0);
  const out: AgentMemory = {
    rssMb: kb("VmRSS") / 1024,
    hwmMb: kb("VmHWM") / 1024,
    anonMb: kb("RssAnon") / 1024,
    fileMb: kb("RssFile") / 1024,
    shmemMb: kb("RssShmem") / 1024,
  };
  try {
    const res = await fetch("http://tartan-agent/metrics", {
      unix: socket,
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    const heap = (state: string) =>
      new RegExp(`^tartan_agent_js_heap_bytes\\{state="${state}"\\} (\\S+)$`, "m").exec(text)?.[1];
    const used = heap("used");
    const total = heap("total");
    if (used !== undefined) out.heapUsedMb = Number(used) / 2 ** 20;
    if (total !== undefined) out.heapTotalMb = Number(total) / 2 ** 20;
  } catch {}
  return out;
}

async function agentPid(): Promise<number> {
  const ls = JSON.parse((await run([tartan, "lab", "ls", "--lab", lab, "-o", "json"])).stdout) as {
    nodes: { name: string; agentPid?: number }[];
  };
  return ls.nodes.find((n) => n.name === node)!.agentPid!;
}

/** Wall-clock start of a process (from /proc: 10 ms resolution). */
function processStartMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return Date.now() - (uptime - ticks / 100) * 1000;
}

interface SyncRun {
  kind: "cold" | "warm";
  /** From `lab agent start` to the first policy apply done. */
  totalMs: number;
  /** From the agent process's start (per /proc) to the same point. */
  fromProcessMs: number;
  /** tartan_policy_last_apply_duration_seconds: compile + read back + nft of that first apply. */
  applyMs: number;
  deltaChanges: number;
  /** Agent log messages of the start, ms after the process started (cold runs). */
  timeline?: [string, number][];
  /** The fields of the agent's "policy applied" line (compileMs, readKernelMs, renderMs, writeMs). */
  policyApplied?: Record<string, unknown>;
}

async function fullSync(kind: "cold" | "warm"): Promise<SyncRun> {
  await run([tartan, "lab", "agent", "stop", node, "--lab", lab], { timeoutMs: 60_000 });
  if (kind === "cold") {
    // Only this lab's node namespace: the policy objects go with the table; nothing else of tartan's is in it.
    await run(["ip", "netns", "exec", nodeNetns, "nft", "delete", "table", "inet", "tartan"], {
      allowFailure: true,
    });
  }
  const logOffset = statSync(agentLog).size;
  const t0 = now();
  // Settled into a value at once: a failure is reported after the poll below, not as an unhandled rejection.
  const start = run([tartan, "lab", "agent", "start", node, "--lab", lab], { timeoutMs: 120_000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  // The end is the agent's own "policy applied" line (its first apply, logged with the time it
  // finished), read from its log file: polling /metrics every few ms, as this bench did before
  // 2026-12-05 (fifth session), cost the agent's thread ~10% of a cold sync's CPU in a profile.
  let done = 0;
  for (;;) {
    const at = await firstApplyAt(logOffset);
    if (at !== undefined) {
      done = at;
      break;
    }
    const failed = await Promise.race([start, Bun.sleep(5).then(() => undefined)]);
    if (failed) throw failed;
    if (now() - t0 > 120_000) throw new Error("no policy apply within 120 s of the agent start");
  }
  const failed = await start;
  if (failed) throw failed;
  const m = await metrics();
  const pid = await agentPid();
  const pstart = processStartMs(pid);
  const r: SyncRun = {
    kind,
    totalMs: done - t0,
    fromProcessMs: done - pstart,
    applyMs: (m.get("tartan_policy_last_apply_duration_seconds") ?? 0) * 1000,
    deltaChanges: m.get("tartan_policy_last_delta_changes") ?? 0,
  };
  const lines = readFileSync(agentLog, "utf8").slice(logOffset).split("\n").filter(Boolean);
  for (const l of lines) {
    try {
      const j = JSON.parse(l) as { msg: string };
      if (j.msg === "policy applied" && r.policyApplied === undefined) {
        const { time: _t, msg: _m, level: _l, ...rest } = j as Record<string, unknown>;
        r.policyApplied = rest;
      }
    } catch {}
  }
  if (kind === "cold") {
    r.timeline = lines.flatMap((l) => {
      try {
        const j = JSON.parse(l) as { time: string; msg: string };
        return [[j.msg, Math.round(Date.parse(j.time) - pstart)] as [string, number]];
      } catch {
        return [];
      }
    });
  }
  return r;
}

/** The k-th pod of the label trials: remote (i >= local) and i % 5 == 0 (its namespace's policies are shape 0). */
const labelPod = (k: number) => 5 * Math.ceil((local + 1) / 5) + 5 * k;

/** One datastore write until the apply carrying it is done; ms, and whether the delta was non-empty. */
/**
 * The phases (compileMs, readKernelMs, renderMs, writeMs) of the agent's "policy applied" lines
 * written after byte `offset` of its log that carried changes: where an incremental change's
 * time went inside the agent.
 */
function appliedPhases(offset: number): Record<string, number>[] {
  const out: Record<string, number>[] = [];
  for (const l of readFileSync(agentLog, "utf8").slice(offset).split("\n")) {
    try {
      const j = JSON.parse(l) as Record<string, unknown>;
      if (j.msg !== "policy applied" || !j.changes) continue;
      out.push(
        Object.fromEntries(
          Object.entries(j).filter(
            (e): e is [string, number] => e[0].endsWith("Ms") && typeof e[1] === "number",
          ),
        ),
      );
    } catch {}
  }
  return out;
}

/** Per phase, the p50 over the changes of one kind (phases absent from a change count as 0). */
function phaseP50s(runs: Record<string, number>[][]): Record<string, number> {
  const flat = runs.flat();
  const names = [...new Set(flat.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(names.map((n) => [n, summarize(flat.map((r) => r[n] ?? 0)).p50]));
}

async function timedChange(
  write: () => Promise<unknown>,
): Promise<{ ms: number; changes: number; phases?: Record<string, number>[] }> {
  const offset = statSync(agentLog).size;
  const r = await timedChangeOnly(write);
  return { ...r, phases: appliedPhases(offset) };
}

async function timedChangeOnly(write: () => Promise<unknown>): Promise<{ ms: number; changes: number }> {
  const before = await applies();
  const t0 = now();
  await write();
  for (;;) {
    const m = await metrics();
    if ((m.get("tartan_policy_applies_total") ?? -1) > before) {
      const ms = now() - t0;
      // A coalesced apply that started before the event arrived carries nothing: wait for the next.
      const changes = m.get("tartan_policy_last_delta_changes") ?? 0;
      if (changes > 0) return { ms, changes };
      return await (async () => {
        const b2 = m.get("tartan_policy_applies_total")!;
        for (;;) {
          const m2 = await metrics();
          if ((m2.get("tartan_policy_applies_total") ?? -1) > b2) {
            return { ms: now() - t0, changes: m2.get("tartan_policy_last_delta_changes") ?? 0 };
          }
          if (now() - t0 > 2000) return { ms: now() - t0, changes: 0 };
          await Bun.sleep(2);
        }
      })();
    }
    if (now() - t0 > 10_000) throw new Error("change not applied within 10 s");
    await Bun.sleep(2);
  }
}

async function main() {
  const out: Record<string, unknown> = { local, sizes: [] as unknown[] };
  await putAll(benchNamespaces());
  let pods = 0;
  let pols = 0;
  const sizeResults: unknown[] = [];
  for (const [nPods, nPols] of sizes) {
    log(`size ${nPods} pods / ${nPols} policies: writing`);
    const before = await applies();
    const tw = now();
    const newPods = Array.from({ length: nPods - pods }, (_, k) => benchPod(pods + k, local));
    const newPols = Array.from({ length: nPols - pols }, (_, k) => benchPolicy(pols + k));
    await putAll([...newPods, ...newPols, ...(pols === 0 ? iperfPolicies() : [])]);
    pods = nPods;
    pols = nPols;
    await settled(before);
    const liveMs = now() - tw;
    const status = (await (await fetch("http://tartan-agent/v1/policy", { unix: socket })).json()) as {
      policies: { total: number; local: number };
      pods: unknown[];
      sets: number;
      setElements: number;
      problems: unknown[];
    };
    const m = await metrics();
    const runs: SyncRun[] = [];
    for (let t = 0; t < syncTrials; t++) {
      for (const kind of ["cold", "warm"] as const) {
        const r = await fullSync(kind);
        log(
          `  ${kind} sync: ${r.totalMs.toFixed(0)} ms (apply ${r.applyMs.toFixed(0)} ms, ${r.deltaChanges} changes)`,
        );
        runs.push(r);
      }
    }
    const mem = await rss(await agentPid());
    const nft = await run(["ip", "netns", "exec", nodeNetns, "nft", "list", "table", "inet", "tartan"]);
    sizeResults.push({
      pods: nPods,
      policies: nPols,
      liveApplyMs: liveMs,
      ir: {
        policiesTotal: status.policies.total,
        policiesLocal: status.policies.local,
        isolatedLocalPods: status.pods.length,
        sets: status.sets,
        setElements: status.setElements,
        chains: m.get("tartan_policy_chains"),
        problems: status.problems.length,
        rulesetLines: nft.stdout.split("\n").length,
        rulesetBytes: nft.stdout.length,
      },
      cold: summarize(runs.filter((r) => r.kind === "cold").map((r) => r.totalMs)),
      warm: summarize(runs.filter((r) => r.kind === "warm").map((r) => r.totalMs)),
      runs,
      agent: mem,
    });
  }
  out.sizes = sizeResults;

  // (b) incremental, at the largest size.
  log(`incremental: ${trials} trials per kind`);
  const inc: Record<string, { ms: number; changes: number; phases?: Record<string, number>[] }[]> = {
    label: [],
    pod: [],
    policy: [],
  };
  for (let k = 0; k < trials; k++) {
    // A remote pod in a namespace whose policies admit tier=web pods of that namespace (shape 0):
    // flipping its tier moves it into or out of that peer set, so the delta is never empty.
    const i = labelPod(k);
    const orig = benchPod(i, local).metadata.labels!;
    const p = benchPod(i, local, { ...orig, tier: orig.tier === "web" ? "api" : "web" });
    inc.label!.push(await timedChange(() => putAll([p], "update")));
    await Bun.sleep(30);
    const np = benchPod(20_000 + k, local, { app: `app-${k % 20}`, tier: "web", ver: "v1" });
    np.metadata.name = `p-new-${k}`;
    np.status = { phase: "Running", podIPs: [{ ip: `10.244.250.${k % 250}` }] };
    inc.pod!.push(await timedChange(() => putAll([np])));
    await Bun.sleep(30);
    const pol = benchPolicy(k);
    pol.metadata.name = `bench-inc-${k}`;
    pol.spec.ingress = [
      {
        from: [{ podSelector: { matchLabels: { ver: `v${k % 4}` } } }],
        ports: [{ protocol: "TCP", port: 7000 + k }],
      },
    ];
    inc.policy!.push(await timedChange(() => putAll([pol])));
    await Bun.sleep(30);
  }
  out.incremental = Object.fromEntries(
    Object.entries(inc).map(([k, v]) => [
      k,
      {
        ...summarize(v.map((x) => x.ms)),
        emptyDeltas: v.filter((x) => x.changes === 0).length,
        changes: summarize(v.map((x) => x.changes)),
        // Inside the agent (its "policy applied" line): the rest of `ms` is the watch delivery,
        // the coalescing trigger and this bench's polling of the metrics.
        agentPhasesP50: phaseP50s(v.map((x) => x.phases ?? [])),
      },
    ]),
  );
  // Put the pods back and remove the incremental objects, so (c) runs on exactly the sizes above.
  {
    const before = await applies();
    await putAll(
      Array.from({ length: trials }, (_, k) => benchPod(labelPod(k), local)),
      "update",
    );
    for (let k = 0; k < trials; k++) {
      await etcd.delete().key(`/tartan/${storeKey("Pod", `p-new-${k}`, nsName(20_000 + k))}`);
      await etcd.delete().key(`/tartan/${storeKey("NetworkPolicy", `bench-inc-${k}`, nsName(k))}`);
    }
    await settled(before);
  }
  out.rssAfterIncremental = await rss(await agentPid());
  // The agent collects after 5 s without an apply (policy-manager.ts): the RSS it settles at.
  await Bun.sleep(6000);
  out.rssAfterIdle = await rss(await agentPid());

  // (c) throughput: all policies loaded, only the iperf pair's two policies, none; rotating order.
  // "pair" separates the cost of stateful filtering itself (conntrack, which the node namespace
  // only runs once a ct rule exists) from the cost of the number of policies.
  log(`throughput: ${iperfRounds} rounds x ${iperfSeconds} s per side`);
  const sides = {
    loaded: [...Array.from({ length: pols }, (_, j) => benchPolicy(j)), ...iperfPolicies()],
    pair: iperfPolicies(),
    none: [],
  } as const;
  type Side = keyof typeof sides;
  const order: Side[] = ["none", "pair", "loaded"];
  let current: Side = "loaded";
  const setSide = async (side: Side) => {
    if (side === current) return;
    const before = await applies();
    await etcd.delete().prefix("/tartan/NetworkPolicy/");
    if (sides[side].length) await putAll([...sides[side]]);
    current = side;
    await settled(before);
  };
  const srv = await startIperfServer(server.netns);
  const tp: Record<Side, number[]> = { loaded: [], pair: [], none: [] };
  const isolated: Record<Side, boolean> = { loaded: false, pair: false, none: false };
  try {
    for (let r = 0; r < iperfRounds; r++) {
      for (let k = 0; k < order.length; k++) {
        const side = order[(k + r) % order.length]!;
        await setSide(side);
        const st = (await (await fetch("http://tartan-agent/v1/policy", { unix: socket })).json()) as {
          pods: { namespace: string; name: string; ingress?: unknown }[];
        };
        isolated[side] = st.pods.some((p) => p.namespace === "bench" && p.name === "server" && p.ingress);
        const res = await iperfClient(clientNetns, server.ip, iperfSeconds);
        tp[side].push(res.gbps);
        log(`  ${side.padEnd(6)}: ${res.gbps.toFixed(2)} Gbit/s`);
      }
    }
  } finally {
    await srv.stop();
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  out.throughput = {
    loadedGbps: tp.loaded,
    pairGbps: tp.pair,
    noneGbps: tp.none,
    ratio: mean(tp.loaded) / mean(tp.none),
    ratioVsPair: mean(tp.loaded) / mean(tp.pair),
    serverIsolated: isolated,
  };
  etcd.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch(async (e) => {
  log(`FAILED: ${e instanceof Error ? e.stack : e}`);
  try {
    const tail = readFileSync(agentLog, "utf8").split("\n").slice(-15).join("\n");
    log(`last lines of ${agentLog}:\n${tail}`);
  } catch {}
  await cleanupAll(log);
  process.exit(1);
});
