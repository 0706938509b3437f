// Fuzz test of the plugin's input with fast-check (issue 12 point 6): a bounded number of cases
// here (FUZZ_RUNS, default 40, so the file stays under a minute), the long run is
// `scripts/fuzz-cni.ts --runs N`. The property and its generators: test/harness/cni-fuzz.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import {
  answerProblems,
  type FuzzBed,
  invokeRaw,
  leftovers,
  pluginInputProperty,
} from "../harness/cni-fuzz.ts";
import { cleanupAllNetns, createNetns, isRoot } from "../harness/netns.ts";
import { privatePluginBin } from "../harness/tartan-binary.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
let bed: FuzzBed;

describe.skipIf(!isRoot)("plugin input fuzz (real binary, private host namespace)", () => {
  beforeAll(async () => {
    const bin = await privatePluginBin("tt-fuzz-bin-");
    const dir = mkdtempSync(join(tmpdir(), "tt-fuzz-"));
    bed = { bin, dir, host: await createNetns("fzh"), pod: await createNetns("fzp") };
  }, 300_000);

  afterAll(async () => {
    await cleanupAllNetns();
    if (bed) {
      rmSync(bed.dir, { recursive: true, force: true });
      rmSync(bed.bin, { recursive: true, force: true });
    }
  });

  test("the checks themselves catch a stack, a missing code, a leftover", async () => {
    expect(
      answerProblems("X", { code: 1, stdout: '{"code":999,"msg":"a"}\n    at f (x.ts:1:1)', stderr: "" }),
    ).not.toEqual([]);
    expect(answerProblems("X", { code: 1, stdout: '{"code":"7","msg":"a"}', stderr: "" })).not.toEqual([]);
    expect(answerProblems("X", { code: 1, stdout: "", stderr: "boom" })).not.toEqual([]);
    expect(answerProblems("X", { code: 1, stdout: '{"code":7,"msg":"a"}', stderr: "" })).toEqual([]);
    await bed.host.exec(["ip", "link", "add", "ttprobe", "type", "veth", "peer", "name", "ttprobe1"]);
    expect(await leftovers(bed)).toContain("host link ttprobe (veth)");
    await bed.host.exec(["ip", "link", "del", "ttprobe"]);
    expect(await leftovers(bed)).toEqual([]);
  });

  test("a valid ADD then DEL leaves nothing (the property's baseline)", async () => {
    const env = {
      CNI_COMMAND: "ADD",
      CNI_CONTAINERID: "fuzzbase",
      CNI_NETNS: bed.pod.path,
      CNI_IFNAME: "eth0",
      CNI_PATH: bed.bin,
    };
    const stdin = JSON.stringify({
      cniVersion: "1.1.0",
      name: "fuzz",
      type: "tartan",
      bridge: "ttfuzz0",
      ipMasq: true,
      dataDir: join(bed.dir, "state"),
      ipam: { type: "tartan-ipam", ranges: [[{ subnet: "10.66.0.0/24" }]], dataDir: join(bed.dir, "ipam") },
    });
    const add = await invokeRaw(bed, env, stdin);
    expect(add.code).toBe(0);
    expect((await leftovers(bed)).length).toBeGreaterThan(0);
    expect((await invokeRaw(bed, { ...env, CNI_COMMAND: "DEL" }, stdin)).code).toBe(0);
    expect(await leftovers(bed)).toEqual([]);
  }, 60_000);

  test(`${RUNS} generated ADD, DEL, GC: coded errors, no stack, nothing left`, async () => {
    await fc.assert(pluginInputProperty(bed), {
      numRuns: RUNS,
      endOnFailure: true,
      ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
    });
  }, 120_000);
});
