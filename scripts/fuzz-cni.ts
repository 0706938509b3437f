// The long run of the plugin input fuzz test (issue 12 point 6); CI runs a bounded number of the
// same cases in test/integration/cni-fuzz.test.ts. Needs root: it makes its own host and pod
// namespaces and removes them, and writes only under a temporary directory.
//
//   sudo bun scripts/fuzz-cni.ts [--runs N] [--seed S]
//
// Prints how the ADDs answered (exit 0, or which CNI code) so a run that only ever met one
// refusal is visible as such; exits 1 with the counterexample on the first failing case.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { type Answer, type FuzzBed, pluginInputProperty } from "../test/harness/cni-fuzz.ts";
import { cleanupAllNetns, createNetns, isRoot } from "../test/harness/netns.ts";
import { privatePluginBin } from "../test/harness/tartan-binary.ts";

function option(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n)) {
    process.stderr.write(
      `fuzz-cni: ${name} needs an integer\nusage: bun scripts/fuzz-cni.ts [--runs N] [--seed S]\n`,
    );
    process.exit(2);
  }
  return n;
}

const runs = option("--runs", 500);
const seed = option("--seed", Date.now() % 2 ** 31);
if (!isRoot) {
  process.stderr.write("fuzz-cni: needs root (it creates network namespaces)\n");
  process.exit(2);
}

function outcome(a: Answer): string {
  if (a.code === 0) return "ok";
  try {
    return `code ${(JSON.parse(a.stdout) as { code: unknown }).code}`;
  } catch {
    return `exit ${a.code}`;
  }
}

const dir = mkdtempSync(join(tmpdir(), "tt-fuzz-"));
let bin = "";
let code = 0;
try {
  bin = await privatePluginBin("tt-fuzz-bin-");
  const bed: FuzzBed = { bin, dir, host: await createNetns("fzh"), pod: await createNetns("fzp") };
  const adds = new Map<string, number>();
  const t0 = performance.now();
  try {
    await fc.assert(
      pluginInputProperty(bed, (add) => {
        const k = outcome(add);
        adds.set(k, (adds.get(k) ?? 0) + 1);
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    console.log(
      `fuzz-cni: ${runs} cases passed in ${((performance.now() - t0) / 1000).toFixed(0)} s (seed ${seed})`,
    );
  } catch (e) {
    console.log(`fuzz-cni: FAILED (seed ${seed}): ${e instanceof Error ? e.message : e}`);
    code = 1;
  }
  console.log(
    `ADD answers: ${[...adds.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ×${n}`)
      .join(", ")}`,
  );
} finally {
  await cleanupAllNetns();
  rmSync(dir, { recursive: true, force: true });
  if (bin) rmSync(bin, { recursive: true, force: true });
}
process.exit(code);
