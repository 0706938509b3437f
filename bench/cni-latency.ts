// CNI ADD/DEL latency of tartan against the reference bridge + host-local plugins (Debian's
// containernetworking-plugins), measured in the same run with alternating rounds so that machine
// noise hits both alike; prints p50/p99 and the ratios tartan/reference, sequentially and with
// `--concurrency` pods at once. Exits 1 if any invocation failed.
//
// Safety: everything happens in namespaces created here (one "host" namespace in which the plugins
// run through `ip netns exec`, and the pod namespaces), with IPAM state in a private temp dir; all
// of it is removed at the end, also on failure or on SIGINT/SIGTERM/SIGHUP.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "../src/exec/run.ts";
import { cleanupAllNetns, createNetns, isRoot } from "../test/harness/netns.ts";
import { parseArgs } from "./cni/args.ts";
import { buildRow, type Report, renderTable, type Scenario } from "./cni/report.ts";
import { REFERENCE_CNI_DIR, referenceSide, type Side, tartanSide } from "./cni/sides.ts";
import { summarize } from "./cni/stats.ts";
import { type Op, type Pod, type Timing, timedInvoke, timedWrapper } from "./cni/timed-invoke.ts";

const repo = resolve(import.meta.dir, "..");
const args = parseArgs(process.argv.slice(2), join(repo, "dist/tartan"));
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
const samples: Samples = {
  sequential: { ADD: new Map(), DEL: new Map() },
  concurrent: { ADD: new Map(), DEL: new Map() },
};
const wrapperMs: number[] = [];
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

async function main(): Promise<number> {
  const reference = referenceSide("reference", join(dataDir, "ref"), "ttrefbr0", "10.77.0.0/16");
  const candidate = args.selfCheck
    ? referenceSide("reference-b", join(dataDir, "ref-b"), "ttrefbr1", "10.79.0.0/16")
    : tartanSide(resolve(args.tartan), join(dataDir, "tartan"));
  const sides = [reference, candidate];

  // Namespaces are created before any timing: their creation is not CNI latency.
  log(`creating the host namespace and ${2 * args.concurrency} pod namespaces`);
  const host = (await createNetns("bhost")).name;
  const pods = new Map<string, Pod[]>();
  for (const s of sides) {
    const list: Pod[] = [];
    for (let i = 0; i < args.concurrency; i++) {
      list.push({ containerId: "", netnsPath: (await createNetns("bpod")).path });
    }
    pods.set(s.label, list);
  }
  // The resident pods are attached before and detached after everything measured, uncounted.
  const residents = new Map<string, Pod>();
  if (args.resident) {
    log("attaching one resident (uncounted) pod per network");
    for (const s of sides) {
      const pod: Pod = { containerId: "", netnsPath: (await createNetns("bres")).path };
      freshIds([pod]);
      record(null, "ADD", s, await timedInvoke(s, "ADD", pod, host));
      residents.set(s.label, pod);
    }
  }
  // Alternate which side goes first, round by round, so drift and noise are shared fairly.
  const order = (i: number): Side[] => (i % 2 === 0 ? sides : [...sides].reverse());

  log(`warm-up: ${args.warmup} uncounted ADD+DEL per plugin`);
  for (let i = 0; i < Math.max(1, args.warmup); i++) {
    await timedWrapper(host);
    for (const s of order(i)) await sequentialPair(null, s, pods.get(s.label)![0]!, host);
  }

  log(`sequential: ${args.iterations} ADD+DEL per plugin`);
  for (let i = 0; i < args.iterations; i++) {
    const w = await timedWrapper(host);
    if (!w.ok) failures.push(w.error!);
    wrapperMs.push(w.ms);
    for (const s of order(i)) await sequentialPair("sequential", s, pods.get(s.label)![0]!, host);
  }

  log(
    `concurrent: ${args.rounds} rounds of ${args.concurrency} ADDs then ${args.concurrency} DELs per plugin`,
  );
  for (let r = 0; r < args.rounds; r++) {
    for (const s of order(r)) await concurrentRound(s, pods.get(s.label)!, host);
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
  const report: Report = {
    command: `npm run bench:cni${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    date: new Date().toISOString(),
    machine: await machine(),
    candidate: candidate.label,
    reference: reference.label,
    concurrency: args.concurrency,
    resident: args.resident,
    wrapper: summarize(wrapperMs),
    rows,
    failures: { count: failures.length, first: failures.slice(0, 5) },
  };
  console.log(args.json ? JSON.stringify(report, null, 2) : renderTable(report));
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
