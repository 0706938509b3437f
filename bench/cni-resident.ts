// What a resident process model would give the CNI plugin (issue 11 point 1: ADD p50 ≤ 0.8× and
// DEL p50 ≤ 0.5× the Go reference, which tartan's one-process-per-call plugin does not reach).
// Measures in one run, alternating, each ADD then DEL in a pod namespace with a resident pod on its
// network, all spawned through the same `ip netns exec HOST` wrapper:
//   - the reference bridge + host-local plugins;
//   - tartan's plugin as shipped (dist/cni/tartan);
//   - the resident model: a thin compiled shim (bench/cni/forward-shim.ts, built as the plugin is)
//     handing the call to a warm process running the plugin's own code (bench/cni/resident-server.ts),
//     with DEL deleting the host veth before it answers, and with that deletion deferred after it;
// plus the floors: the wrapper alone, an empty compiled Bun program, the shim's VERSION round trip
// (start, read stdin, connect, the server's trivial answer), and the server's own time per verb.
// ipMasq alike on all sides (off by default). Prints p50/p25 and the ratios to the reference.
//
// Safety: everything runs in namespaces created here; IPAM state in a private temp dir; the
// server is started here and ended by its pid; all of it is removed at the end, also on failure.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "../src/exec/run.ts";
import { cleanupAllNetns, createNetns, isRoot } from "../test/harness/netns.ts";
import { REFERENCE_CNI_DIR, referenceSide, type Side, tartanSide } from "./cni/sides.ts";
import { buildEmptyBun, compileLikePlugin } from "./cni/startup-floor.ts";
import { summarize } from "./cni/stats.ts";
import { type Pod, type Timing, timedInvoke, timedWrapper } from "./cni/timed-invoke.ts";
import { unixAsk } from "./cni/unix-ask.ts";

const repo = resolve(import.meta.dir, "..");
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const iterations = Number(flag("--iterations", "40"));
const ipMasq = flag("--ipmasq", "off") === "on";
const tartan = resolve(flag("--tartan", join(repo, "dist/cni/tartan")));
const json = argv.includes("--json");
const log = (msg: string): void => void process.stderr.write(`cni-resident: ${msg}\n`);

if (!isRoot) {
  log("needs root (it creates network namespaces)");
  process.exit(2);
}
if (!Number.isInteger(iterations) || iterations < 1) {
  log(`--iterations must be a positive integer, not ${flag("--iterations", "")}`);
  process.exit(2);
}

const dataDir = mkdtempSync(join(tmpdir(), "tt-bench-resident-"));
const socket = join(dataDir, "resident.sock");
let server: ReturnType<typeof Bun.spawn> | undefined;
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  if (server) {
    server.kill("SIGTERM");
    await Promise.race([server.exited, Bun.sleep(5000)]);
    if (server.exitCode === null) server.kill("SIGKILL");
  }
  await cleanupAllNetns();
  rmSync(dataDir, { recursive: true, force: true });
}
for (const [sig, num] of [
  ["SIGINT", 2],
  ["SIGTERM", 15],
  ["SIGHUP", 1],
] as const) {
  process.on(sig, () => void cleanup().finally(() => process.exit(128 + num)));
}

/** A tartan config on its own bridge and subnet, answered by the resident server. */
function residentSide(
  label: string,
  shim: string,
  bridge: string,
  subnet: string,
  deferDelete: boolean,
): Side {
  const base = tartanSide(tartan, join(dataDir, label), ipMasq, `-${label}`).config;
  return {
    label,
    binary: shim,
    cniPath: `${repo}/dist/cni`,
    config: {
      ...base,
      bridge,
      ipam: { ...(base.ipam as object), ranges: [[{ subnet }]] },
      residentSocket: socket,
      residentDeferDelete: deferDelete,
    },
  };
}

/** A program run through the wrapper with CNI_COMMAND=VERSION: start-up floors, comparable to ADD/DEL. */
async function timedVersion(binary: string, host: string, config: object): Promise<Timing> {
  const t0 = performance.now();
  const r = await run(["ip", "netns", "exec", host, binary], {
    stdin: JSON.stringify(config),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CNI_COMMAND: "VERSION" },
    allowFailure: true,
  });
  const ms = performance.now() - t0;
  return r.code === 0
    ? { ms, ok: true }
    : { ms, ok: false, error: `${binary} VERSION: exit ${r.code} ${r.stderr}` };
}

async function serverStats(): Promise<Record<string, number[]>> {
  return JSON.parse(await unixAsk(socket, '{"stats":true}\n'));
}

async function main(): Promise<number> {
  log("building the shim and the empty Bun program as the plugin is built");
  const shim = await compileLikePlugin(
    join(repo, "bench/cni/forward-shim.ts"),
    join(dataDir, "shim"),
    "the shim",
  );
  const empty = await buildEmptyBun(dataDir);
  const host = (await createNetns("rhost")).name;
  server = Bun.spawn(
    ["ip", "netns", "exec", host, process.execPath, join(repo, "bench/cni/resident-server.ts"), socket],
    {
      stdout: "ignore",
      stderr: "inherit",
    },
  );
  for (let i = 0; i < 100 && !existsSync(socket); i++) await Bun.sleep(50);
  if (!existsSync(socket)) throw new Error("the resident server did not start");

  const sides: Side[] = [
    referenceSide("reference", join(dataDir, "ref"), "ttrefbr0", "10.77.0.0/16", ipMasq, "-res"),
    tartanSide(tartan, join(dataDir, "tartan"), ipMasq, "-res"),
    residentSide("resident", shim, "tartanbench1", "10.80.0.0/16", false),
    residentSide("resident-deferred", shim, "tartanbench2", "10.81.0.0/16", true),
  ];
  const samples = new Map<string, number[]>();
  const failures: string[] = [];
  const record = (key: string, t: Timing, counted: boolean): void => {
    if (!t.ok) failures.push(t.error ?? `${key} failed`);
    if (!counted) return;
    if (!samples.has(key)) samples.set(key, []);
    samples.get(key)!.push(t.ms);
  };
  let nextId = 0;
  const pods = new Map<string, Pod>();
  for (const s of sides) {
    // The resident pod: attached before, detached after, uncounted.
    const resident: Pod = { containerId: `ttres${nextId++}`, netnsPath: (await createNetns("rres")).path };
    record(`${s.label} ADD`, await timedInvoke(s, "ADD", resident, host), false);
    pods.set(`${s.label}/resident`, resident);
    pods.set(s.label, { containerId: "", netnsPath: (await createNetns("rpod")).path });
  }
  const floors: [string, () => Promise<Timing>][] = [
    ["wrapper alone", () => timedWrapper(host)],
    ["empty compiled Bun", () => timedVersion(empty, host, {})],
    ["shim VERSION round trip", () => timedVersion(shim, host, sides[2]!.config)],
  ];
  log(
    `${iterations} rounds (after 3 uncounted), ipMasq ${ipMasq ? "on" : "off"}, load ${loadavg()[0]!.toFixed(2)}`,
  );
  for (let i = 0; i < iterations + 3; i++) {
    const counted = i >= 3;
    // Rotate the order so that drift and noise are shared fairly.
    const order = sides.map((_, k) => sides[(k + i) % sides.length]!);
    for (const [key, f] of floors) record(key, await f(), counted);
    for (const s of order) {
      const pod = pods.get(s.label)!;
      pod.containerId = `ttres${(nextId++).toString(16).padStart(8, "0")}`;
      record(`${s.label} ADD`, await timedInvoke(s, "ADD", pod, host), counted);
      record(`${s.label} DEL`, await timedInvoke(s, "DEL", pod, host), counted);
    }
  }
  for (const s of sides) {
    record(`${s.label} DEL`, await timedInvoke(s, "DEL", pods.get(`${s.label}/resident`)!, host), false);
  }
  const work = await serverStats();
  const p = (key: string): { p50: number; p25: number; n: number } => {
    const xs = [...(samples.get(key) ?? work[key] ?? [])].sort((a, b) => a - b);
    return { p50: summarize(xs).p50, p25: xs[Math.floor(xs.length / 4)] ?? Number.NaN, n: xs.length };
  };
  const rows: { what: string; p50: number; p25: number; n: number; vsReference?: number }[] = [];
  for (const op of ["ADD", "DEL"] as const) {
    const ref = p(`reference ${op}`).p50;
    for (const s of sides) {
      const r = p(`${s.label} ${op}`);
      rows.push({ what: `${s.label} ${op}`, ...r, vsReference: r.p50 / ref });
    }
  }
  for (const [key] of floors) rows.push({ what: key, ...p(key) });
  for (const key of Object.keys(work)) rows.push({ what: `server work: ${key}`, ...p(key) });
  const report = {
    command: `bun bench/cni-resident.ts ${argv.join(" ")}`.trim(),
    date: new Date().toISOString(),
    commit: (
      await run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], { allowFailure: true })
    ).stdout.trim(),
    loadavg: loadavg().map((x) => x.toFixed(2)),
    ipMasq,
    iterations,
    rows,
    failures: { count: failures.length, first: failures.slice(0, 5) },
  };
  if (json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`${report.command}  (${report.date}, ${report.commit}, load ${report.loadavg.join(" ")})`);
    console.log("| what | p50 ms | p25 ms | n | p50 / reference |\n|---|---|---|---|---|");
    for (const r of rows) {
      const ratio = r.vsReference === undefined ? "" : r.vsReference.toFixed(2);
      console.log(`| ${r.what} | ${r.p50.toFixed(1)} | ${r.p25.toFixed(1)} | ${r.n} | ${ratio} |`);
    }
    console.log("targets: ADD ≤ 0.80, DEL ≤ 0.50 of the reference (issue 11 point 1)");
    if (failures.length) console.log(`FAILURES (${failures.length}): ${failures.slice(0, 5).join("; ")}`);
  }
  return failures.length === 0 ? 0 : 1;
}

let code = 1;
try {
  for (const bin of [`${REFERENCE_CNI_DIR}/bridge`, `${REFERENCE_CNI_DIR}/host-local`, tartan]) {
    if (!(await Bun.file(bin).exists()))
      throw new Error(`${bin} is missing (npm run build; scripts/ensure-deps.sh)`);
  }
  code = await main();
} catch (e) {
  log(`failed: ${e instanceof Error ? e.message : e}`);
} finally {
  await cleanup();
}
process.exit(code);
