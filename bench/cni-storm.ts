// The 32-way ADD storm (issue 12 point 5): C concurrent ADDs, each into a pod namespace made for
// that round, then C concurrent DELs, for tartan and for the reference bridge + host-local, with
// the same options on both sides (bridge with the gateway address, no ipMasq). Both plugins run as
// the "host" inside a private namespace (`ip netns exec`), never in the machine's root namespace.
// Start-up contention is what this measures: on a 2-core machine 32 processes start at once.
//
//   sudo bun bench/cni-storm.ts [--concurrency 32] [--rounds 5] [--tartan dist/cni/tartan] [--json]
//
// The sides alternate which goes first each round, so neither always meets a warmer page cache.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "../src/exec/run.ts";
import { cleanupAllNetns, createNetns, deleteNetns, isRoot } from "../test/harness/netns.ts";
import { REFERENCE_CNI_DIR, referenceSide, type Side, tartanSide } from "./cni/sides.ts";
import { type Summary, summarize } from "./cni/stats.ts";
import { type Pod, timedInvoke } from "./cni/timed-invoke.ts";

const USAGE = `usage: bun bench/cni-storm.ts [--concurrency C] [--rounds R] [--tartan PATH] [--json]
  --concurrency C  ADDs started at once, then as many DELs (default 32)
  --rounds R       storms per plugin (default 5; one uncounted warm-up storm first)
  --tartan PATH    tartan plugin executable (default dist/cni/tartan)
  --json           print the figures as JSON`;

const repo = resolve(import.meta.dir, "..");
const log = (msg: string): void => void process.stderr.write(`cni-storm: ${msg}\n`);

function parse(argv: readonly string[]): {
  concurrency: number;
  rounds: number;
  tartan: string;
  json: boolean;
} {
  const a = { concurrency: 32, rounds: 5, tartan: join(repo, "dist/cni/tartan"), json: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const int = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) {
        log(`${k} needs an integer >= 1\n${USAGE}`);
        process.exit(2);
      }
      return n;
    };
    if (k === "--concurrency") a.concurrency = int();
    else if (k === "--rounds") a.rounds = int();
    else if (k === "--tartan") a.tartan = resolve(argv[++i] ?? "");
    else if (k === "--json") a.json = true;
    else {
      log(k === "--help" ? USAGE : `unknown option ${k}\n${USAGE}`);
      process.exit(k === "--help" ? 0 : 2);
    }
  }
  return a;
}

const args = parse(process.argv.slice(2));
if (!isRoot) {
  log("needs root (it creates network namespaces)");
  process.exit(2);
}
for (const bin of [`${REFERENCE_CNI_DIR}/bridge`, `${REFERENCE_CNI_DIR}/host-local`, args.tartan]) {
  if (!existsSync(bin)) {
    log(`${bin} is missing (npm run build; scripts/ensure-deps.sh for the reference plugins)`);
    process.exit(2);
  }
}

const dataDir = mkdtempSync(join(tmpdir(), "tt-bench-storm-"));
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await cleanupAllNetns();
  rmSync(dataDir, { recursive: true, force: true });
}
for (const [sig, num] of [
  ["SIGINT", 2],
  ["SIGTERM", 15],
] as const) {
  process.on(sig, () => void cleanup().finally(() => process.exit(128 + num)));
}

/** Same options on both sides: no masquerade (the reference's ipMasq costs an iptables run). */
const failures: string[] = [];
let nextId = 0;

async function storm(side: Side, host: string): Promise<{ add: number[]; del: number[] }> {
  const pods: Pod[] = [];
  const made: string[] = [];
  try {
    for (let i = 0; i < args.concurrency; i++) {
      const ns = await createNetns("spod");
      made.push(ns.name);
      pods.push({ containerId: `ttstorm${(nextId++).toString(16).padStart(8, "0")}`, netnsPath: ns.path });
    }
    const adds = await Promise.all(pods.map((p) => timedInvoke(side, "ADD", p, host)));
    const dels = await Promise.all(pods.map((p) => timedInvoke(side, "DEL", p, host)));
    for (const t of [...adds, ...dels]) if (!t.ok) failures.push(t.error ?? `${side.label} failed`);
    return { add: adds.map((t) => t.ms), del: dels.map((t) => t.ms) };
  } finally {
    for (const n of made) await deleteNetns(n);
  }
}

async function main(): Promise<number> {
  const sides = [
    referenceSide("reference", join(dataDir, "ref"), "ttstormref0", "10.77.0.0/16", false),
    tartanSide(args.tartan, join(dataDir, "tartan"), false),
  ];
  const host = (await createNetns("shost")).name;
  const samples = new Map(sides.map((s) => [s.label, { add: [] as number[], del: [] as number[] }]));
  const load0 = loadavg();
  log(`warm-up storm per plugin, then ${args.rounds} storms of ${args.concurrency}`);
  for (const s of sides) await storm(s, host);
  for (let r = 0; r < args.rounds; r++) {
    for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
      const got = await storm(s, host);
      samples.get(s.label)!.add.push(...got.add);
      samples.get(s.label)!.del.push(...got.del);
    }
  }
  const load1 = loadavg();
  const fig = (label: string, op: "add" | "del"): Summary => summarize(samples.get(label)![op]);
  const out = {
    date: new Date().toISOString(),
    commit: (
      await run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], { allowFailure: true })
    ).stdout.trim(),
    kernel: release(),
    cpus: cpus().length,
    loadavgBefore: load0.map((x) => Number(x.toFixed(2))),
    loadavgAfter: load1.map((x) => Number(x.toFixed(2))),
    concurrency: args.concurrency,
    rounds: args.rounds,
    figures: Object.fromEntries(
      (["add", "del"] as const).map((op) => {
        const t = fig("tartan", op);
        const ref = fig("reference", op);
        return [op, { tartan: t, reference: ref, ratioP50: t.p50 / ref.p50, ratioP99: t.p99 / ref.p99 }];
      }),
    ),
    failures,
  };
  if (args.json) console.log(JSON.stringify(out, null, 2));
  else {
    console.log(
      `${out.date} commit ${out.commit}, ${out.cpus} CPUs, load ${out.loadavgBefore.join(" ")} → ${out.loadavgAfter.join(" ")}`,
    );
    console.log(`${args.rounds} storms of ${args.concurrency} concurrent ADDs then DELs per plugin (ms)`);
    console.log("op   plugin      n    p50     p99     max     ratio p50  ratio p99");
    for (const op of ["add", "del"] as const) {
      const f = out.figures[op]!;
      for (const label of ["tartan", "reference"] as const) {
        const s = f[label];
        const ratio = label === "tartan" ? `${f.ratioP50.toFixed(2)}       ${f.ratioP99.toFixed(2)}` : "";
        console.log(
          `${op.toUpperCase().padEnd(4)} ${label.padEnd(10)} ${String(s.n).padStart(3)} ${s.p50.toFixed(0).padStart(6)}  ${s.p99.toFixed(0).padStart(6)}  ${s.max.toFixed(0).padStart(6)}  ${ratio}`,
        );
      }
    }
    if (failures.length) console.log(`${failures.length} failures, first: ${failures[0]}`);
  }
  return failures.length ? 1 : 0;
}

main()
  .then(
    async (code) => {
      await cleanup();
      process.exit(code);
    },
    async (e) => {
      log(String(e instanceof Error ? e.stack : e));
      await cleanup();
      process.exit(1);
    },
  )
  .catch(() => process.exit(1));
