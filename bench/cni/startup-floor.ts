// The start-up floor of each side: CNI_COMMAND=VERSION of the reference bridge plugin and of
// tartan's plugin, and an empty program compiled with `bun build --compile` (built here, into the
// bench's temp dir, by the same Bun that builds tartan), so the report shows how much of an ADD is
// the runtime starting before any work. Each run is spawned directly (no netns wrapper), the
// programs alternating so that machine noise hits all alike; wall clock and CPU time (user+sys).
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Summary, summarize } from "./stats.ts";

export interface FloorRow {
  label: string;
  binary: string;
  wall: Summary;
  cpu: Summary;
}

export interface StartupFloor {
  runs: number;
  rows: FloorRow[];
  /** VERSION of tartan's plugin / the empty compiled Bun program, p50 wall (target <= 1.3). */
  ratioVsEmptyBun: number;
  /** VERSION of tartan's plugin / VERSION of the reference plugin, p50 wall. */
  ratioVsReference: number;
}

/** Compiles `process.exit(0)` with the running Bun into `dir`, as the plugin is; the path of the executable. */
export async function buildEmptyBun(dir: string): Promise<string> {
  const src = join(dir, "empty.ts");
  writeFileSync(src, "process.exit(0);\n");
  return await compileLikePlugin(src, join(dir, "empty-bun"), "the empty Bun program");
}

/** Compiles `src` into `out` with the running Bun exactly as scripts/build.ts builds the plugin. */
export async function compileLikePlugin(src: string, out: string, what: string): Promise<string> {
  const p = Bun.spawn(
    // Built exactly as scripts/build.ts builds the plugin (ES modules, split, no .env or
    // bunfig.toml lookups at start): a reference built otherwise starts ~1–2 ms slower or faster.
    [
      process.execPath,
      "build",
      "--compile",
      "--minify",
      "--bytecode",
      "--format=esm",
      "--splitting",
      "--no-compile-autoload-dotenv",
      "--no-compile-autoload-bunfig",
      src,
      "--outfile",
      out,
    ],
    {
      stdout: "ignore",
      stderr: "pipe",
    },
  );
  if ((await p.exited) !== 0 || !existsSync(out)) {
    throw new Error(`could not compile ${what}: ${await new Response(p.stderr).text()}`);
  }
  return out;
}

async function once(binary: string): Promise<{ wall: number; cpu: number }> {
  const t0 = performance.now();
  const p = Bun.spawn([binary], {
    stdin: new TextEncoder().encode('{"cniVersion":"1.0.0"}'),
    stdout: "ignore",
    stderr: "ignore",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CNI_COMMAND: "VERSION" },
  });
  const code = await p.exited;
  const wall = performance.now() - t0;
  if (code !== 0) throw new Error(`${binary} VERSION exited ${code}`);
  const ru = p.resourceUsage();
  // cpuTime is in microseconds.
  const cpu = ru ? Number(ru.cpuTime.user + ru.cpuTime.system) / 1000 : Number.NaN;
  return { wall, cpu };
}

export async function measureStartupFloor(
  programs: { label: string; binary: string }[],
  runs: number,
  warmup = 3,
): Promise<StartupFloor> {
  const wall = programs.map(() => [] as number[]);
  const cpu = programs.map(() => [] as number[]);
  for (let i = 0; i < warmup + runs; i++) {
    // Rotate the order every round: no program always runs right after the same other one.
    for (let k = 0; k < programs.length; k++) {
      const j = (i + k) % programs.length;
      const r = await once(programs[j]!.binary);
      if (i >= warmup) {
        wall[j]!.push(r.wall);
        cpu[j]!.push(r.cpu);
      }
    }
  }
  const rows = programs.map((p, j) => ({ ...p, wall: summarize(wall[j]!), cpu: summarize(cpu[j]!) }));
  const p50 = (label: string) => rows.find((r) => r.label === label)?.wall.p50 ?? Number.NaN;
  return {
    runs,
    rows,
    ratioVsEmptyBun: p50("tartan plugin") / p50("empty compiled Bun"),
    ratioVsReference: p50("tartan plugin") / p50("reference bridge"),
  };
}

export function renderFloor(f: StartupFloor): string {
  const n = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");
  const lines = [
    `start-up floor: CNI_COMMAND=VERSION, spawned directly, ${f.runs} runs each, alternating (ms)`,
    "program                       wall p50   p99   cpu p50  binary",
  ];
  for (const r of f.rows) {
    lines.push(
      `${r.label.padEnd(28)} ${n(r.wall.p50).padStart(9)} ${n(r.wall.p99).padStart(5)} ${n(r.cpu.p50).padStart(9)}  ${r.binary}`,
    );
  }
  lines.push(
    `tartan plugin / empty compiled Bun, p50: ${f.ratioVsEmptyBun.toFixed(2)} (target <= 1.3, ${
      f.ratioVsEmptyBun <= 1.3 ? "met" : "NOT met"
    }); tartan plugin / reference bridge: ${f.ratioVsReference.toFixed(2)}`,
  );
  return lines.join("\n");
}
