// Where one plugin invocation spends its time: runs a warm-up ADD+DEL, then one ADD and one DEL
// under `strace -f -ttt` and prints a timeline relative to the wrapper's start (plugin exec, stdin
// read, files opened under the IPAM dataDir, every child process such as ip/nft/iptables with its
// duration, exit), followed by `strace -f -c` syscall totals for a second ADD+DEL.
// Usage: bun bench/cni-trace.ts [--reference] [--empty] [--no-ipmasq] [--tartan PATH]
// As in cni-latency.ts, one resident pod stays attached (steady state) unless --empty.
// --concurrent N adds N traced ADDs (then DELs) at once, summarised per phase.
// Same safety as cni-latency.ts: private namespaces and temp dir, removed at the end and on signals.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "../src/exec/run.ts";
import { invokePlugin, type JsonObject } from "../test/harness/cni-invoke.ts";
import { cleanupAllNetns, createNetns } from "../test/harness/netns.ts";
import { referenceSide, type Side, tartanSide } from "./cni/sides.ts";

const argv = process.argv.slice(2);
const useRef = argv.includes("--reference");
const ti = argv.indexOf("--tartan");
const tartan = resolve(ti >= 0 ? argv[ti + 1]! : join(import.meta.dir, "../dist/cni/tartan"));
const dataDir = mkdtempSync(join(tmpdir(), "tt-bench-trace-"));
const cleanup = async (): Promise<void> => {
  await cleanupAllNetns();
  rmSync(dataDir, { recursive: true, force: true });
};
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => void cleanup().finally(() => process.exit(130)));
}

const side: Side = useRef
  ? referenceSide(
      "reference",
      join(dataDir, "ipam"),
      "ttrefbr0",
      "10.77.0.0/16",
      !argv.includes("--no-ipmasq"),
    )
  : tartanSide(tartan, join(dataDir, "ipam"), !argv.includes("--no-ipmasq"));

async function invoke(cmd: "ADD" | "DEL", id: string, netns: string, host: string, prev?: JsonObject) {
  const config = prev ? { ...side.config, prevResult: prev } : side.config;
  const r = await invokePlugin({
    binary: side.binary,
    command: cmd,
    containerId: id,
    netns,
    cniPath: side.cniPath,
    config,
    hostNetns: host,
  });
  if (r.code !== 0) throw new Error(`${cmd} failed: ${r.stdout} ${r.stderr}`);
  return r.json;
}

/** Runs one verb under a tool (strace, time) that writes its findings to the file after `-o`. */
async function traced(
  cmd: "ADD" | "DEL",
  id: string,
  netns: string,
  host: string,
  toolArgs: string[],
  tool = "/usr/bin/strace",
) {
  const out = join(dataDir, `strace-${cmd}-${id}.txt`);
  const env: Record<string, string | undefined> = {
    ...process.env,
    CNI_COMMAND: cmd,
    CNI_CONTAINERID: id,
    CNI_NETNS: netns,
    CNI_IFNAME: "eth0",
    CNI_PATH: side.cniPath,
  };
  const r = await run(["ip", "netns", "exec", host, tool, ...toolArgs, "-o", out, side.binary], {
    stdin: JSON.stringify(side.config),
    env,
    allowFailure: true,
  });
  if (r.code !== 0) throw new Error(`${cmd} under strace failed: ${r.stdout} ${r.stderr}`);
  return readFileSync(out, "utf8");
}

function timeline(text: string): string[] {
  const lines = text.split("\n").filter(Boolean);
  const ts = (l: string): number => Number(l.split(/\s+/)[1]);
  const t0 = ts(lines[0]!);
  const rel = (l: string): string => `${((ts(l) - t0) * 1000).toFixed(2).padStart(8)} ms`;
  const starts = new Map<string, number>();
  const out: string[] = [];
  const pendingExec = new Map<string, string>();
  for (const l of lines) {
    const pid = l.split(/\s+/)[0]!;
    // Multi-threaded plugins (Go) make strace split a call into "<unfinished ...>" and "resumed".
    const m = /execve\("([^"]+)", \[([^\]]*)\]/.exec(l);
    if (m && l.endsWith("<unfinished ...>")) pendingExec.set(pid, m[2]!);
    const args =
      m && / = 0$/.test(l) ? m[2] : /execve resumed.* = 0$/.test(l) ? pendingExec.get(pid) : undefined;
    if (args !== undefined) {
      starts.set(pid, ts(l));
      out.push(`${rel(l)}  [${pid}] exec ${args.replace(/"/g, "").slice(0, 90)}`);
    } else if (/ read\(0,/.test(l) && !/ = 0$/.test(l)) {
      out.push(`${rel(l)}  [${pid}] read stdin`);
    } else if (l.includes("openat(") && l.includes(dataDir) && !/= -1/.test(l)) {
      out.push(`${rel(l)}  [${pid}] open ${/"([^"]+)"/.exec(l)?.[1]?.replace(dataDir, "$DATADIR")}`);
    } else if (l.includes("+++ exited with") && starts.has(pid)) {
      // Only processes that exec'd; threads exit silently.
      out.push(
        `${rel(l)}  [${pid}] ${l.slice(l.indexOf("+++"))} after ${((ts(l) - starts.get(pid)!) * 1000).toFixed(2)} ms`,
      );
    }
  }
  return out;
}

interface Phases {
  total: number;
  start: number;
  children: number;
  sleeping: number;
}

/** Splits one traced invocation into start-up (exec to stdin read), child processes, sleeps. */
function phases(text: string): Phases {
  const lines = text.split("\n").filter(Boolean);
  const ts = (l: string): number => Number(l.split(/\s+/)[1]);
  const dur = (l: string): number => Number(/<([0-9.]+)>$/.exec(l)?.[1] ?? 0) * 1000;
  const root = lines[0]!.split(/\s+/)[0]!;
  const t0 = ts(lines[0]!);
  const starts = new Map<string, number>();
  let stdin = Number.NaN;
  let end = t0;
  let children = 0;
  let sleeping = 0;
  for (const l of lines) {
    const pid = l.split(/\s+/)[0]!;
    if (/execve(\(| resumed).* = 0 <[0-9.]+>$/.test(l) && pid !== root) starts.set(pid, ts(l));
    if (Number.isNaN(stdin) && / read\(0,/.test(l) && !/ = 0 </.test(l)) stdin = ts(l);
    // SQLite's busy handler and Go's/Bun's schedulers all sleep through these.
    if (/nanosleep(\(| resumed)/.test(l) && /<[0-9.]+>$/.test(l)) sleeping += dur(l);
    if (l.includes("+++ exited with")) {
      if (pid === root) end = ts(l);
      const s0 = starts.get(pid);
      if (s0 !== undefined) children += (ts(l) - s0) * 1000;
    }
  }
  return { total: (end - t0) * 1000, start: (stdin - t0) * 1000, children, sleeping };
}

async function concurrentPhases(n: number, host: string): Promise<void> {
  const pods: string[] = [];
  for (let i = 0; i < n; i++) pods.push((await createNetns("bpod")).path);
  const args = ["-f", "-ttt", "-T", "-e", "trace=execve,read,exit_group,nanosleep,clock_nanosleep"];
  for (const cmd of ["ADD", "DEL"] as const) {
    const res = await Promise.all(pods.map((p, i) => traced(cmd, `ttconc${i}`, p, host, args)));
    const ph = res.map(phases);
    const col = (k: keyof Phases): string => {
      const v = ph.map((x) => x[k]).sort((a, b) => a - b);
      return `${k} p50 ${v[Math.floor(v.length / 2)]!.toFixed(1)} max ${v[v.length - 1]!.toFixed(1)}`;
    };
    console.log(
      `== ${side.label} ${cmd} x${n} concurrent under strace (ms; children = sum of ip/nft/... runs) ==`,
    );
    console.log(`  ${col("total")} | ${col("start")} | ${col("children")} | ${col("sleeping")}`);
  }
}

try {
  const host = (await createNetns("bhost")).name;
  const pod = (await createNetns("bpod")).path;
  if (!argv.includes("--empty")) await invoke("ADD", "ttresident", (await createNetns("bres")).path, host);
  const warm = await invoke("ADD", "ttwarm", pod, host);
  await invoke("DEL", "ttwarm", pod, host, warm);
  const tl = ["-f", "-ttt", "-e", "trace=execve,openat,read,exit_group"];
  for (const cmd of ["ADD", "DEL"] as const) {
    console.log(`== ${side.label} ${cmd} timeline (strace -f -ttt; strace slows every syscall) ==`);
    console.log(timeline(await traced(cmd, "tttrace1", pod, host, tl)).join("\n"));
  }
  for (const cmd of ["ADD", "DEL"] as const) {
    console.log(`== ${side.label} ${cmd}: strace -f -c (all processes) ==`);
    console.log((await traced(cmd, "tttrace2", pod, host, ["-f", "-c"])).split("\n").slice(0, 16).join("\n"));
  }
  // CPU per invocation (plugin and its children, perf stat task-clock): what 16 concurrent pods compete for on 2 cores.
  for (const cmd of ["ADD", "DEL"] as const) {
    const cpu: number[] = [];
    for (let i = 0; i < 9; i++) {
      const id = `ttcpu${i}`;
      if (cmd === "DEL") await invoke("ADD", id, pod, host);
      const t = await traced(cmd, id, pod, host, ["stat", "-x", ",", "-e", "task-clock"], "/usr/bin/perf");
      if (cmd === "ADD") await invoke("DEL", id, pod, host);
      // perf's CSV line: "<msec>,msec,task-clock,...", counted over the process and its children.
      const line = t.split("\n").find((l) => l.includes("task-clock")) ?? "";
      cpu.push(Number(line.split(",")[0]));
    }
    cpu.sort((a, b) => a - b);
    console.log(
      `== ${side.label} ${cmd}: CPU (perf task-clock, with children) median of 9: ${cpu[4]!.toFixed(0)} ms ==`,
    );
  }
  const ci = argv.indexOf("--concurrent");
  if (ci >= 0) await concurrentPhases(Number(argv[ci + 1] ?? 16), host);
} finally {
  await cleanup();
}
