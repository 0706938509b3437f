// The real plugin binary for integration tests: built when dist/tartan is missing or older than
// src/, then copied into a private directory (with the tartan-ipam symlink), so a rebuild by
// someone else mid-run cannot swap the file under a running test.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "../../src/exec/run.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DIST = join(ROOT, "dist/tartan");

function newestMtime(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return t;
}

/** A fresh directory holding `tartan` and `tartan-ipam`; the caller removes it. */
export async function privateTartanBin(prefix = "tartan-bin-"): Promise<string> {
  if (!existsSync(DIST) || statSync(DIST).mtimeMs < newestMtime(join(ROOT, "src"))) {
    await run(["npm", "run", "--silent", "--prefix", ROOT, "build"], { timeoutMs: 300_000 });
  }
  const bin = mkdtempSync(join(tmpdir(), prefix));
  copyFileSync(DIST, join(bin, "tartan"));
  symlinkSync("tartan", join(bin, "tartan-ipam"));
  return bin;
}
