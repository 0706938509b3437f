// The lab wires pods with the plugin executable beside its tartan executable (decision 0012).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cniPluginExecutable } from "../../src/lab/tartan-executable.ts";

const dir = mkdtempSync(join(tmpdir(), "tartan-plugin-exe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("cniPluginExecutable", () => {
  test("cni/tartan beside the executable when the build put it there", () => {
    const d = join(dir, "with");
    mkdirSync(join(d, "cni"), { recursive: true });
    writeFileSync(join(d, "tartan"), "");
    writeFileSync(join(d, "cni", "tartan"), "");
    expect(cniPluginExecutable(join(d, "tartan"))).toBe(join(d, "cni", "tartan"));
  });

  test("the executable itself (it still answers CNI_COMMAND) when there is no cni/tartan", () => {
    const d = join(dir, "without");
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "tartan"), "");
    expect(cniPluginExecutable(join(d, "tartan"))).toBe(join(d, "tartan"));
  });
});
