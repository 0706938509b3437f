// The real executables for integration and e2e tests: built when dist/tartan or dist/cni/tartan is
// missing or older than src/, then copied into a private directory, so a rebuild by someone else
// mid-run cannot swap a file under a running test.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "../../src/exec/run.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DIST = join(ROOT, "dist/tartan");
/** The CNI plugin executable (docs/decisions/0012-separate-plugin-executable.md). */
const DIST_PLUGIN = join(ROOT, "dist/cni/tartan");

function newestMtime(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return t;
}

async function ensureBuilt(): Promise<void> {
  const src = newestMtime(join(ROOT, "src"));
  if ([DIST, DIST_PLUGIN].some((f) => !existsSync(f) || statSync(f).mtimeMs < src)) {
    await run(["npm", "run", "--silent", "--prefix", ROOT, "build"], { timeoutMs: 300_000 });
  }
}

/** `tartan` (a copy of `from`) and `tartan-ipam` (a symlink to it) in `dir`. */
function install(from: string, dir: string): void {
  copyFileSync(from, join(dir, "tartan"));
  symlinkSync("tartan", join(dir, "tartan-ipam"));
}

/**
 * A fresh directory laid out like dist/: `tartan` (CLI, agent, lab) and `cni/tartan` with
 * `cni/tartan-ipam` (the plugin, which the lab finds beside the CLI); the caller removes it.
 */
export async function privateTartanBin(prefix = "tartan-bin-"): Promise<string> {
  await ensureBuilt();
  const bin = mkdtempSync(join(tmpdir(), prefix));
  install(DIST, bin);
  mkdirSync(join(bin, "cni"));
  install(DIST_PLUGIN, join(bin, "cni"));
  return bin;
}

/** A fresh directory holding the CNI plugin as `tartan` and `tartan-ipam`; the caller removes it. */
export async function privatePluginBin(prefix = "tartan-plugin-"): Promise<string> {
  await ensureBuilt();
  const bin = mkdtempSync(join(tmpdir(), prefix));
  install(DIST_PLUGIN, bin);
  return bin;
}
