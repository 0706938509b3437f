// CNI ADD/DEL latency of tartan against the reference bridge + host-local plugins (Debian's
// containernetworking-plugins), measured in the same run with alternating rounds so that machine
// noise hits both alike; prints p50/p99 and the ratios tartan/reference, sequentially and with
// `--concurrency` pods at once, for every configuration: ipMasq on and off (both sides alike) x a
// resident pod or an empty network. First the start-up floor of each side (VERSION of both
// plugins, an empty compiled Bun program built here). Exits 1 if any invocation failed.
//
// Safety: everything happens in namespaces created here (one "host" namespace in which the plugins
// run through `ip netns exec`, and the pod namespaces), with IPAM state in a private temp dir; all
// of it is removed at the end, also on failure or on SIGINT/SIGTERM/SIGHUP.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "../src/exec/run.ts";
import { cleanupAllNetns, createNetns, isRoot } from "../test/harness/netns.ts";
import { parseArgs } from "./cni/args.ts";
import { buildRow, type Report, renderSummary, renderTable, type Scenario } from "./cni/report.ts";
import { REFERENCE_CNI_DIR, referenceSide, type Side, tartanSide } from "./cni/sides.ts";
import { buildEmptyBun, measureStartupFloor, renderFloor, type StartupFloor } from "./cni/startup-floor.ts";
import { summarize } from "./cni/stats.ts";
import { type Op, type Pod, type Timing, timedInvoke, timedWrapper } from "./cni/timed-invoke.ts";

const repo = resolve(import.meta.dir, "..");
const args = parseArgs(process.argv.slice(2), join(repo, "dist/cni/tartan"));
const log = (msg: string): void => void process.stderr.write(`cni-latency: ${msg}\n`);

if (!isRoot) {
  log("needs root (it creates network namespaces)");
  process.exit(2);
}
for (const bin of [`${REFERENCE_CNI_DIR}/bridge`, `${REFERENCE_CNI_DIR}/host-local`]) {
  if (!existsSync(bin)) {
    log(`${bin} is missing: install Debian's containernetworking-plugins (scripts/ensure-deps.sh)`);
    process.exit(2);
  }
}
if (!args.selfCheck && !existsSync(args.tartan)) {
  log(`${args.tartan} is missing: run \`npm run build\` first (or --self-check to test the harness)`);
  process.exit(2);
}

// --- cleanup, registered before anything is created --------------------------------------------
const dataDir = mkdtempSync(join(tmpdir(), "tt-bench-cni-"));
// A bridge of this name in the root namespace would mean a plugin escaped the host namespace.
const leakNames = ["tartanbench0", "ttrefbr0", "ttrefbr1"];
const preexisting = new Set(leakNames.filter((n) => existsSync(`/sys/class/net/${n}`)));
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await cleanupAllNetns();
  rmSync(dataDir, { recursive: true, force: true });
  for (const n of leakNames) {
    if (!preexisting.has(n) && existsSync(`/sys/class/net/${n}`)) {
      log(`WARNING: bridge ${n} appeared in the root namespace during the run; removing it`);
      await run(["ip", "link", "del", n], { allowFailure: true });
    }
  }
}
for (const [sig, num] of [
  ["SIGINT", 2],
  ["SIGTERM", 15],
  ["SIGHUP", 1],
] as const) {
  process.on(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(128 + num));
  });
}
process.on("exit", () => rmSync(dataDir, { recursive: true, force: true }));

// --- measurement ----------------------------------------------------------------------------------
type Samples = Record<Scenario, Record<Op, Map<string, number[]>>>;
let samples: Samples;
let wrapperMs: number[] = [];
const failures: string[] = [];
let nextId = 0;

function record(scenario: Scenario | null, op: Op, side: Side, t: Timing): void {
  if (!t.ok) failures.push(t.error ?? `${side.label} ${op} failed`);
  if (scenario === null) return; // warm-up
  const m = samples[scenario][op];
  if (!m.has(side.label)) m.set(side.label, []);
  m.get(side.label)!.push(t.ms);
}

function freshIds(pods: Pod[]): void {
  for (const p of pods) {
    p.containerId = `ttbench${(nextId++).toString(16).padStart(8, "0")}`;
    p.addResult = undefined;
  }
}

async function sequentialPair(scenario: Scenario | null, side: Side, pod: Pod, host: string): Promise<void> {
  freshIds([pod]);
  record(scenario, "ADD", side, await timedInvoke(side, "ADD", pod, host));
  // DEL runs even after a failed ADD: it must succeed and it clears what a half-done ADD left.
  record(scenario, "DEL", side, await timedInvoke(side, "DEL", pod, host));
}

async function concurrentRound(side: Side, pods: Pod[], host: string): Promise<void> {
  freshIds(pods);
  const adds = await Promise.all(pods.map((p) => timedInvoke(side, "ADD", p, host)));
  for (const t of adds) record("concurrent", "ADD", side, t);
  const dels = await Promise.all(pods.map((p) => timedInvoke(side, "DEL", p, host)));
  for (const t of dels) record("concurrent", "DEL", side, t);
}

/** One configuration: its own network names and IPAM directories, the same namespaces. */
async function measure(
  ipMasq: boolean,
  resident: boolean,
  n: number,
  host: string,
  podsOf: (label: string) => Pod[],
): Promise<Report> {
  samples = {
    sequential: { ADD: new Map(), DEL: new Map() },
    concurrent: { ADD: new Map(), DEL: new Map() },
  };
  wrapperMs = [];
  const dir = join(dataDir, `c${n}`);
  const suffix = `-c${n}`;
  const reference = referenceSide("reference", join(dir, "ref"), "ttrefbr0", "10.77.0.0/16", ipMasq, suffix);
  const candidate = args.selfCheck
    ? referenceSide("reference-b", join(dir, "ref-b"), "ttrefbr1", "10.79.0.0/16", ipMasq, suffix)
    : tartanSide(resolve(args.tartan), join(dir, "tartan"), ipMasq, suffix);
  const sides = [reference, candidate];
  const what = `ipMasq ${ipMasq ? "on" : "off"}, ${resident ? "resident pod" : "empty network"}`;

  // The resident pods are attached before and detached after everything measured, uncounted.
  const residents = new Map<string, Pod>();
  if (resident) {
    for (const s of sides) {
      const pod: Pod = { containerId: "", netnsPath: (await createNetns("bres")).path };
      freshIds([pod]);
      record(null, "ADD", s, await timedInvoke(s, "ADD", pod, host));
      residents.set(s.label, pod);
    }
  }
  // Alternate which side goes first, round by round, so drift and noise are shared fairly.
  const order = (i: number): Side[] => (i % 2 === 0 ? sides : [...sides].reverse());

  log(
    `${what}: warm-up, ${args.iterations} sequential ADD+DEL per plugin, ${args.rounds} rounds of ${args.concurrency}`,
  );
  for (let i = 0; i < Math.max(1, args.warmup); i++) {
    await timedWrapper(host);
    for (const s of order(i)) await sequentialPair(null, s, podsOf(s.label)[0]!, host);
  }
  for (let i = 0; i < args.iterations; i++) {
    const w = await timedWrapper(host);
    if (!w.ok) failures.push(w.error!);
    wrapperMs.push(w.ms);
    for (const s of order(i)) await sequentialPair("sequential", s, podsOf(s.label)[0]!, host);
  }
  for (let r = 0; r < args.rounds; r++) {
    for (const s of order(r)) await concurrentRound(s, podsOf(s.label), host);
  }

  for (const s of sides) {
    const pod = residents.get(s.label);
    if (pod) record(null, "DEL", s, await timedInvoke(s, "DEL", pod, host));
  }

  const rows = (["sequential", "concurrent"] as const).flatMap((sc) =>
    (["ADD", "DEL"] as const).map((op) =>
      buildRow(
        sc,
        op,
        samples[sc][op].get(reference.label) ?? [],
        samples[sc][op].get(candidate.label) ?? [],
      ),
    ),
  );
  return {
    command: `npm run bench:cni${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    date: new Date().toISOString(),
    machine: await machine(),
    candidate: candidate.label,
    reference: reference.label,
    concurrency: args.concurrency,
    resident,
    ipMasq,
    wrapper: summarize(wrapperMs),
    rows,
    failures: { count: failures.length, first: failures.slice(0, 5) },
  };
}

async function startupFloor(): Promise<StartupFloor | undefined> {
  if (args.floorRuns === 0) return undefined;
  log(`start-up floor: building an empty Bun program, then ${args.floorRuns} VERSION runs per program`);
  // The empty program is written just now; tartan's executables are copied beside it, so that
  // all start from files in the same state: a 110 MB executable written a moment ago starts
  // ~2 ms sooner than the same bytes in an older file (page-cache state; docs/benchmarks.md).
  const fresh = (binary: string, name: string): string => {
    const copy = join(dataDir, name);
    copyFileSync(binary, copy);
    chmodSync(copy, 0o755);
    return copy;
  };
  const programs = [
    { label: "empty compiled Bun", binary: await buildEmptyBun(dataDir) },
    { label: "reference bridge", binary: `${REFERENCE_CNI_DIR}/bridge` },
    { label: "tartan plugin", binary: fresh(resolve(args.tartan), "tartan-plugin") },
  ];
  // The CLI/agent executable beside dist/cni/ too, when there is one: what the split saves.
  const cli = resolve(args.tartan, "../../tartan");
  if (!args.selfCheck && cli !== resolve(args.tartan) && existsSync(cli)) {
    programs.push({ label: "tartan CLI executable", binary: fresh(cli, "tartan-cli") });
  }
  return await measureStartupFloor(programs, args.floorRuns);
}

async function main(): Promise<number> {
  const floor = await startupFloor();
  if (floor && !args.json) console.log(`${renderFloor(floor)}\n`);

  // Namespaces are created before any timing: their creation is not CNI latency.
  log(`creating the host namespace and ${2 * args.concurrency} pod namespaces`);
  const host = (await createNetns("bhost")).name;
  const pods = new Map<string, Pod[]>();
  for (const label of ["reference", args.selfCheck ? "reference-b" : "tartan"]) {
    const list: Pod[] = [];
    for (let i = 0; i < args.concurrency; i++) {
      list.push({ containerId: "", netnsPath: (await createNetns("bpod")).path });
    }
    pods.set(label, list);
  }
  const reports: Report[] = [];
  let n = 0;
  for (const ipMasq of args.ipMasqs) {
    for (const resident of args.residents) {
      const rep = await measure(ipMasq, resident, n++, host, (label) => pods.get(label)!);
      reports.push(rep);
      if (!args.json) console.log(`${renderTable(rep)}\n`);
    }
  }
  if (args.json) console.log(JSON.stringify({ floor, reports }, null, 2));
  else {
    console.log(renderSummary(reports));
    console.log(
      "\nThe IPAM store after many operations: `bun bench/ipam-history.ts` (10,000 ADD/DEL cycles).",
    );
  }
  return failures.length === 0 ? 0 : 1;
}

async function machine(): Promise<Record<string, string>> {
  const dpkg = await run(["dpkg-query", "--show", "containernetworking-plugins"], {
    allowFailure: true,
  });
  const rev = await run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], { allowFailure: true });
  return {
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? "unknown"}`,
    kernel: release(),
    // Other work on a shared machine is the main noise source; the load shows how much there was.
    loadavg: loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
    bun: Bun.version,
    reference: `containernetworking-plugins ${dpkg.stdout.trim().split("\t")[1] ?? "unknown"}`,
    tartanCommit: rev.stdout.trim() || "unknown",
  };
}

let code = 1;
try {
  code = await main();
} catch (e) {
  log(`error: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  await cleanup();
}
process.exit(code);
