// NetworkPolicy at scale on a real tartan lab (2 nodes, vxlan, real etcd, agents, nftables):
//  (a) full sync for 1k/5k/10k pods with 100/500/1000 policies: from the agent's start until its
//      first policy apply is in the kernel, cold (node table emptied first) and warm;
//  (b) incremental latency p50/p99 from one datastore write (pod label change, new pod, new
//      policy) to the apply carrying it done (nft -f returned, or the netlink element batch
//      acknowledged), with the agent's own phases (compile, render, write) p50 beside it;
//  (c) iperf3 pod to pod (node-2 -> node-1, both pods isolated and allowed by policy) with all
//      policies loaded vs only the pair's two policies vs none, rotating rounds in the same run;
//  (d) the agent's RSS at each size.
// Pods beyond the two real ones are datastore objects with IPs (written straight into the lab's
// etcd through the datastore code), so the ruleset has its full size; --local-pods of them are
// on node-1 (chains and verdict-map entries of their own), the rest elsewhere (peer-set elements).
// Targets (issue 11): full sync at 10k pods / 1k policies <= 1 s; incremental p99 <= 50 ms;
// per-packet cost independent of the number of policies (throughput loaded/pair >= 0.95; loaded/none,
// the fixed cost of conntrack, is reported on its own); agent RSS <= 100 MB.
//
//   npm run bench:policy [-- --sizes 1000:100,5000:500,10000:1000] [--trials 30] [--sync-trials 3]
//                        [--local-pods 100] [--iperf-seconds 5] [--iperf-rounds 3] [--json]
//
// Safety: everything inside the lab's namespaces (tl-<lab>-*): etcd writes from inside its fabric
// namespace, iperf3 between its pods, nft only in its node namespace. The in-fabric worker and
// iperf3 are stopped by PID; the lab is taken down at the end, also on failure and on signals.
import { existsSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { resolve } from "node:path";
import { run } from "../src/exec/run.ts";
import { isRoot } from "../test/harness/netns.ts";
import { cleanupAll, cleanupOnSignals, stopProcess, trackLab, trackProcess } from "./lab/cleanup.ts";
import { labName, labUp, TARTAN } from "./lab/lab-cli.ts";
import { labEtcdArgv } from "./lab/lab-etcd.ts";

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const log = (m: string): void => void process.stderr.write(`policy-bench: ${m}\n`);
const pass = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? [name, argv[i + 1]!] : [];
};

if (!isRoot) {
  log("needs root (it creates network namespaces)");
  process.exit(2);
}
if (!existsSync(TARTAN)) {
  log(`${TARTAN} is missing: run \`npm run build\` first`);
  process.exit(2);
}
cleanupOnSignals(log);

interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}
/** VmRSS / VmHWM, the RSS split (anonymous, file-backed, shmem) and the agent's JS heap (used / held). */
interface AgentMemory {
  rssMb: number;
  hwmMb: number;
  anonMb?: number;
  fileMb?: number;
  shmemMb?: number;
  heapUsedMb?: number;
  heapTotalMb?: number;
}
const split = (m: AgentMemory): string =>
  m.anonMb === undefined
    ? ""
    : ` (anon ${m.anonMb.toFixed(0)}, file ${m.fileMb!.toFixed(0)}; JS heap ${m.heapUsedMb?.toFixed(0) ?? "?"} used / ${m.heapTotalMb?.toFixed(0) ?? "?"} held)`;
interface Result {
  local: number;
  sizes: {
    pods: number;
    policies: number;
    liveApplyMs: number;
    ir: Record<string, number>;
    cold: Summary;
    warm: Summary;
    runs: {
      kind: string;
      totalMs: number;
      fromProcessMs: number;
      applyMs: number;
      deltaChanges: number;
      timeline?: [string, number][];
    }[];
    agent: AgentMemory;
  }[];
  incremental: Record<string, Summary & { emptyDeltas: number; agentPhasesP50?: Record<string, number> }>;
  rssAfterIncremental: AgentMemory;
  rssAfterIdle: AgentMemory;
  throughput: {
    loadedGbps: number[];
    pairGbps: number[];
    noneGbps: number[];
    ratio: number;
    ratioVsPair: number;
    serverIsolated: Record<string, boolean>;
  };
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const name = labName("pol");
  trackLab(name);
  log(`lab ${name}: up (2 nodes, vxlan)`);
  const up = await labUp(name, { nodes: 2, backend: "vxlan" });
  const podAdd = async (node: string, pod: string, app: string) =>
    JSON.parse(
      (
        await run([
          TARTAN,
          "lab",
          "pod",
          "add",
          node,
          pod,
          "--labels",
          `app=${app}`,
          "--lab",
          name,
          "-o",
          "json",
        ])
      ).stdout,
    ) as { netns: string; ips: string[] };
  const srv = await podAdd("node-1", "bench/server", "iperf-server");
  const cli = await podAdd("node-2", "bench/client", "iperf-client");
  const ls = JSON.parse((await run([TARTAN, "lab", "ls", "--lab", name, "-o", "json"])).stdout) as {
    dir: string;
  };
  const worker = Bun.spawn(
    [
      "ip",
      "netns",
      "exec",
      `tl-${name}-fabric`,
      process.execPath,
      resolve(import.meta.dir, "policy/inside.ts"),
      "--lab",
      name,
      "--lab-dir",
      ls.dir,
      ...labEtcdArgv(up.etcd),
      "--tartan",
      TARTAN,
      "--server-netns",
      srv.netns,
      "--server-ip",
      srv.ips[0]!.split("/")[0]!,
      "--client-netns",
      cli.netns,
      ...[
        "--sizes",
        "--trials",
        "--sync-trials",
        "--local-pods",
        "--iperf-seconds",
        "--iperf-rounds",
      ].flatMap(pass),
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "inherit" },
  );
  trackProcess(worker);
  const text = await new Response(worker.stdout).text();
  const code = await worker.exited;
  await stopProcess(worker.pid);
  if (code !== 0) throw new Error(`the in-fabric worker failed (exit ${code})`);
  const r = JSON.parse(text) as Result;
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? "?"}, Linux ${release()}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`;
  if (json) {
    process.stdout.write(`${JSON.stringify({ started, machine, ...r }, null, 2)}\n`);
    return;
  }
  const f = (x: number) => x.toFixed(0);
  const lines: string[] = [];
  lines.push(
    `NetworkPolicy bench, ${started}; ${machine}; agent of node-1, ${r.local} of the pods on node-1`,
  );
  lines.push("");
  lines.push(
    "(a) full sync: agent start -> first policy apply in the kernel (ms, median of runs; cold = node table emptied)",
  );
  lines.push(
    "pods    policies  cold p50  cold max  warm p50  apply(cold)  changes  sets  elements  chains  ruleset lines  RSS MB  HWM MB",
  );
  for (const s of r.sizes) {
    const cold = s.runs.filter((x) => x.kind === "cold");
    lines.push(
      [
        String(s.pods).padEnd(7),
        String(s.policies).padEnd(9),
        f(s.cold.p50).padStart(8),
        f(s.cold.max).padStart(9),
        f(s.warm.p50).padStart(9),
        f(cold.map((x) => x.applyMs).sort((a, b) => a - b)[Math.floor(cold.length / 2)] ?? 0).padStart(12),
        String(cold[0]?.deltaChanges ?? 0).padStart(8),
        String(s.ir.sets).padStart(5),
        String(s.ir.setElements).padStart(9),
        String(s.ir.chains).padStart(7),
        String(s.ir.rulesetLines).padStart(14),
        s.agent.rssMb.toFixed(0).padStart(7),
        s.agent.hwmMb.toFixed(0).padStart(7),
      ].join(" "),
    );
  }
  const big = r.sizes[r.sizes.length - 1]!;
  const tl = big.runs.find((x) => x.timeline)?.timeline ?? [];
  lines.push(
    `  cold start of the largest size, agent log (ms after the process started): ${tl.map(([m, t]) => `${t} ${m}`).join("; ")}`,
  );
  lines.push("");
  lines.push(
    `(b) incremental at ${big.pods} pods / ${big.policies} policies: datastore write -> apply done (ms)`,
  );
  for (const [k, s] of Object.entries(r.incremental)) {
    lines.push(
      `  ${k.padEnd(7)} p50 ${s.p50.toFixed(1)}  p99 ${s.p99.toFixed(1)}  max ${s.max.toFixed(1)}  (n=${s.n}, empty deltas ${s.emptyDeltas})`,
    );
    const ph = Object.entries(s.agentPhasesP50 ?? {});
    if (ph.length)
      lines.push(`          inside the agent, p50: ${ph.map(([n, v]) => `${n} ${v.toFixed(1)}`).join(", ")}`);
  }
  lines.push("");
  const t = r.throughput;
  const gb = (a: number[]) => a.map((x) => x.toFixed(2)).join("/");
  lines.push(
    `(c) iperf3 node-2 -> node-1 pod, 1 stream, Gbit/s: ${big.policies} policies ${gb(t.loadedGbps)}; ` +
      `only the pair's 2 policies ${gb(t.pairGbps)}; none ${gb(t.noneGbps)}`,
  );
  lines.push(
    `    ratio loaded/none ${t.ratio.toFixed(3)}, loaded/pair ${t.ratioVsPair.toFixed(3)} (server isolated: ${JSON.stringify(t.serverIsolated)})`,
  );
  lines.push(
    `(d) agent RSS at the largest size: ${big.agent.rssMb.toFixed(0)} MB${split(big.agent)} (peak ${big.agent.hwmMb.toFixed(0)} MB); after (b): ${r.rssAfterIncremental.rssMb.toFixed(0)} MB${split(r.rssAfterIncremental)}; 6 s later (idle collection): ${r.rssAfterIdle.rssMb.toFixed(0)} MB${split(r.rssAfterIdle)}`,
  );
  lines.push("");
  const inc = Math.max(...Object.values(r.incremental).map((s) => s.p99));
  const targets: [string, boolean][] = [
    [`full sync ${big.pods}/${big.policies} cold p50 ${f(big.cold.p50)} ms <= 1000`, big.cold.p50 <= 1000],
    [`incremental p99 ${inc.toFixed(1)} ms <= 50`, inc <= 50],
    [`per-packet cost: throughput loaded/pair ${t.ratioVsPair.toFixed(3)} >= 0.95`, t.ratioVsPair >= 0.95],
    [`agent RSS ${big.agent.rssMb.toFixed(0)} MB <= 100`, big.agent.rssMb <= 100],
  ];
  for (const [what, ok] of targets) lines.push(`target ${ok ? "MET   " : "MISSED"} ${what}`);
  lines.push(`(fixed cost of conntrack, loaded/none: ${t.ratio.toFixed(3)}; reported, no target)`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

try {
  await main();
} catch (e) {
  log(`FAILED: ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
} finally {
  await cleanupAll(log);
}
