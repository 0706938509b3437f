// Does an ADD get slower as the IPAM store's history grows? 10,000 ADD/DEL cycles (default) on one
// store, each verb as the plugin runs it (tartan-ipam's code, in this process, opening and closing
// the store every time as each plugin process does), ADD latency of the first and the last window
// of cycles compared; and, before and after that history, real `tartan-ipam` processes (ADD+DEL
// spawned like a runtime does), since a cost that every new process pays on open (say a
// write-ahead log it has to scan) shows there. Prints p50/p99 early and late, and then the old
// store against a fresh one measured alternately (the verdict: that ratio is free of load drift).
// No root needed: only a private temp dir is written, and removed at the end.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runIpamPlugin } from "../src/cni/run-ipam-plugin.ts";
import { cniDeps } from "../src/cni-wiring.ts";
import { IPAM_DB_FILE } from "../src/datastore/local/sqlite-ipam-store.ts";
import { run } from "../src/exec/run.ts";
import { type Summary, summarize } from "./cni/stats.ts";

const USAGE = `usage: bun bench/ipam-history.ts [--cycles N] [--window W] [--process-samples S] [--ipam PATH] [--json]
  --cycles N            ADD+DEL cycles on one store (default 10000)
  --window W            cycles compared at the start and at the end (default 500)
  --process-samples S   real tartan-ipam ADD+DEL processes before and after (default 30; 0 skips)
  --ipam PATH           the tartan-ipam executable (default dist/cni/tartan-ipam)`;

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`ipam-history: ${name} needs an integer >= 0\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
if (argv.includes("-h") || argv.includes("--help")) {
  console.log(USAGE);
  process.exit(0);
}
const cycles = opt("--cycles", 10_000);
const window = Math.min(opt("--window", 500), Math.floor(cycles / 2));
const processSamples = opt("--process-samples", 30);
const ipamAt = argv.indexOf("--ipam");
const ipamBin = resolve(ipamAt >= 0 ? argv[ipamAt + 1]! : join(import.meta.dir, "../dist/cni/tartan-ipam"));
const json = argv.includes("--json");
const log = (msg: string): void => void process.stderr.write(`ipam-history: ${msg}\n`);

const dataDir = mkdtempSync(join(tmpdir(), "tt-bench-ipam-history-"));
process.on("exit", () => rmSync(dataDir, { recursive: true, force: true }));
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => process.exit(130));

const configFor = (dir: string): string =>
  JSON.stringify({
    cniVersion: "1.0.0",
    name: "ttbench-history",
    ipam: {
      type: "tartan-ipam",
      // Dual-stack, as a cluster would run it: two reservations per ADD.
      ranges: [[{ subnet: "10.80.0.0/16" }], [{ subnet: "fd80::/64" }]],
      dataDir: dir,
    },
  });
const config = configFor(dataDir);
/** A store with no history, measured alternately with the old one so that the load cancels. */
const freshConfig = configFor(join(dataDir, "fresh"));
const envFor = (command: "ADD" | "DEL", id: string): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  CNI_COMMAND: command,
  CNI_CONTAINERID: id,
  CNI_NETNS: "/proc/self/ns/net",
  CNI_IFNAME: "eth0",
  CNI_PATH: "/nonexistent",
});

/** One verb the way the plugin runs it, in this process; milliseconds. */
async function inProcess(command: "ADD" | "DEL", id: string, cfg = config): Promise<number> {
  const env = envFor(command, id);
  const t0 = performance.now();
  const out = await runIpamPlugin(cniDeps(env, "tartan-ipam"), env, cfg);
  const ms = performance.now() - t0;
  if (out.exitCode !== 0) throw new Error(`${command} ${id}: ${out.stdout}`);
  return ms;
}

/** One verb as a real tartan-ipam process; milliseconds from spawn to exit. */
async function asProcess(command: "ADD" | "DEL", id: string, cfg = config): Promise<number> {
  const t0 = performance.now();
  const r = await run([ipamBin], { env: envFor(command, id), stdin: cfg, allowFailure: true });
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${ipamBin} ${command} ${id}: exit ${r.code}: ${r.stdout} ${r.stderr}`);
  return ms;
}

async function processWindow(tag: string): Promise<Summary | undefined> {
  if (processSamples === 0 || !existsSync(ipamBin)) return undefined;
  const adds: number[] = [];
  for (let i = 0; i < processSamples + 2; i++) {
    const ms = await asProcess("ADD", `proc-${tag}-${i}`);
    if (i >= 2) adds.push(ms); // two uncounted: page cache
    await asProcess("DEL", `proc-${tag}-${i}`);
  }
  return summarize(adds);
}

const size = (f: string): number => (existsSync(f) ? statSync(f).size : 0);

async function main(): Promise<void> {
  if (processSamples > 0 && !existsSync(ipamBin))
    log(`${ipamBin} missing (npm run build): process samples skipped`);
  const loadBefore = loadavg()[0]!.toFixed(2);
  const processEarly = await processWindow("early");
  log(`${cycles} ADD+DEL cycles in-process`);
  const addMs: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) {
    const id = `hist${i.toString(16).padStart(8, "0")}`;
    addMs.push(await inProcess("ADD", id));
    await inProcess("DEL", id);
    if ((i + 1) % 2000 === 0) log(`${i + 1} cycles`);
  }
  const totalS = (performance.now() - t0) / 1000;
  const processLate = await processWindow("late");
  // The verdict: the old store against a fresh one, alternating, at the same moments.
  log(`old store vs fresh store, alternating: ${window} in-process, ${processSamples} process ADDs each`);
  const vsOld: number[] = [];
  const vsFresh: number[] = [];
  for (let i = 0; i < window; i++) {
    for (const [cfg, out] of i % 2 === 0
      ? ([
          [config, vsOld],
          [freshConfig, vsFresh],
        ] as const)
      : ([
          [freshConfig, vsFresh],
          [config, vsOld],
        ] as const)) {
      out.push(await inProcess("ADD", `alt-${i}`, cfg));
      await inProcess("DEL", `alt-${i}`, cfg);
    }
  }
  const pOld: number[] = [];
  const pFresh: number[] = [];
  if (processSamples > 0 && existsSync(ipamBin)) {
    for (let i = 0; i < processSamples; i++) {
      for (const [cfg, out] of i % 2 === 0
        ? ([
            [config, pOld],
            [freshConfig, pFresh],
          ] as const)
        : ([
            [freshConfig, pFresh],
            [config, pOld],
          ] as const)) {
        out.push(await asProcess("ADD", `palt-${i}`, cfg));
        await asProcess("DEL", `palt-${i}`, cfg);
      }
    }
  }
  const early = summarize(addMs.slice(0, window));
  const late = summarize(addMs.slice(-window));
  const db = join(dataDir, IPAM_DB_FILE);
  const result = {
    command: `bun bench/ipam-history.ts${argv.length ? ` ${argv.join(" ")}` : ""}`,
    date: new Date().toISOString(),
    load: `${loadBefore} -> ${loadavg()[0]!.toFixed(2)}`,
    cycles,
    window,
    seconds: totalS,
    inProcess: { early, late, ratioP50: late.p50 / early.p50, ratioP99: late.p99 / early.p99 },
    process:
      processEarly && processLate
        ? {
            early: processEarly,
            late: processLate,
            ratioP50: processLate.p50 / processEarly.p50,
            ratioP99: processLate.p99 / processEarly.p99,
          }
        : undefined,
    storeBytes: { db: size(db), wal: size(`${db}-wal`), shm: size(`${db}-shm`) },
    oldVsFresh: {
      inProcess: { old: summarize(vsOld), fresh: summarize(vsFresh) },
      process: pOld.length ? { old: summarize(pOld), fresh: summarize(pFresh) } : undefined,
    },
  };
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const f = (x: number) => x.toFixed(2);
  const line = (what: string, e: Summary, l: Summary) =>
    `${what.padEnd(38)} early p50 ${f(e.p50)} p99 ${f(e.p99)} | late p50 ${f(l.p50)} p99 ${f(l.p99)} | ` +
    `late/early p50 ${f(l.p50 / e.p50)} p99 ${f(l.p99 / e.p99)}`;
  console.log(
    `IPAM store history: ${cycles} ADD+DEL cycles on one store in ${totalS.toFixed(1)} s, load ${result.load}`,
  );
  console.log(line(`ADD in-process, ms (first/last ${window})`, early, late));
  if (result.process) {
    console.log(
      line(`ADD as a tartan-ipam process, ms (${processSamples})`, result.process.early, result.process.late),
    );
  }
  // The whole run in tenths: a trend across them is growth; a jump in one is the machine.
  const tenth = Math.max(1, Math.floor(cycles / 10));
  const tenths = Array.from({ length: Math.min(10, cycles) }, (_, k) =>
    summarize(addMs.slice(k * tenth, (k + 1) * tenth)).p50.toFixed(2),
  );
  console.log(`ADD in-process p50 by tenth of the run, ms: ${tenths.join(" ")}`);
  console.log(
    `store after the run: db ${result.storeBytes.db} B, wal ${result.storeBytes.wal} B, shm ${result.storeBytes.shm} B`,
  );
  const ov = result.oldVsFresh;
  const alt = (what: string, o: Summary, fr: Summary) =>
    `${what.padEnd(38)} old store p50 ${f(o.p50)} p99 ${f(o.p99)} | fresh store p50 ${f(fr.p50)} p99 ${f(fr.p99)} | ` +
    `old/fresh p50 ${f(o.p50 / fr.p50)}`;
  console.log(alt(`ADD in-process, alternating (${window})`, ov.inProcess.old, ov.inProcess.fresh));
  if (ov.process)
    console.log(alt(`ADD as a process, alternating (${processSamples})`, ov.process.old, ov.process.fresh));
  // Early/late windows drift with the machine's load; the alternating pairs do not.
  const worst = Math.max(
    ov.inProcess.old.p50 / ov.inProcess.fresh.p50,
    ov.process ? ov.process.old.p50 / ov.process.fresh.p50 : 0,
  );
  console.log(
    `ADD latency does not grow with history (old/fresh p50 <= 1.2, alternating; noise ~±0.1): ${
      worst <= 1.2 ? "yes" : "NO"
    }`,
  );
}

await main();
