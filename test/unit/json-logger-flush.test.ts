// Log lines reach stderr before the process exits: main.ts and the CNI wiring await flushLogs()
// before process.exit, which drops Bun.write calls still in flight (an agent's "agent stopping"
// line went missing from its log file that way), and lines keep their order (concurrent writes
// did not). A child logs a burst to a file and exits.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "tt-logflush-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logger = resolve(import.meta.dir, "../../src/exec/json-logger.ts");

test("every line logged before process.exit is in the file, in order, when flushLogs was awaited", async () => {
  const child = join(dir, "child.ts");
  writeFileSync(
    child,
    `import { flushLogs, makeLogger } from ${JSON.stringify(logger)};\n` +
      `const log = makeLogger({}, "t", "info");\n` +
      "for (let i = 0; i < 2000; i++) log('info', 'line ' + i);\n" +
      "await flushLogs();\nprocess.exit(0);\n",
  );
  for (let run = 0; run < 3; run++) {
    const out = join(dir, `stderr-${run}.txt`);
    const p = Bun.spawn([process.execPath, child], { stderr: Bun.file(out), stdout: "ignore" });
    expect(await p.exited).toBe(0);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(Array.from({ length: 2000 }, (_, i) => `line ${i}`));
  }
});
