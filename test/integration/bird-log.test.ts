// bird's own log stays bounded: the agent's config line (render/bird-conf.ts, BirdLog) makes a
// real bird rename its log to the backup once it passes the limit. Runs in the test runner's
// private namespace (scripts/test.sh); the bird started here is ended by its pid.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BirdProcess } from "../../src/dataplane/linux/bird-process.ts";
import { eventually } from "../harness/eventually.ts";
import { isRoot } from "../harness/netns.ts";

const haveBird = existsSync("/usr/sbin/bird");
const dir = mkdtempSync(join(tmpdir(), "tartan-birdlog-"));
const bird = new BirdProcess(dir, "bird");

afterAll(() => {
  const pid = bird.process();
  if (pid !== undefined) bird.kill(pid);
  rmSync(dir, { recursive: true, force: true });
});

test.skipIf(!haveBird || !isRoot)(
  "bird renames its log to the backup past the limit, and goes on logging",
  async () => {
    const limit = 4096;
    // No kernel protocol: this bird installs nothing; `debug protocols all` makes each configure log.
    await bird.writeConfig(
      `log "${bird.paths.log}" ${limit} "${bird.paths.logBackup}" all;\n` +
        "router id 198.18.0.1;\ndebug protocols all;\nprotocol device { scan time 10; }\n",
    );
    const pid = await bird.start();
    expect(bird.process()).toBe(pid);
    for (let i = 0; i < 200 && !existsSync(bird.paths.logBackup); i++) {
      expect((await bird.command("configure"))[0]?.code).toBeLessThan(8000);
    }
    expect(existsSync(bird.paths.logBackup)).toBe(true);
    expect(statSync(bird.paths.logBackup).size).toBeGreaterThanOrEqual(limit - 200);
    // The new log is written to after the rename, and stays under the limit.
    await bird.command("configure");
    await eventually(
      "bird writes to the new log",
      () => existsSync(bird.paths.log) && statSync(bird.paths.log).size > 0,
      { timeoutMs: 5000 },
    );
    expect(statSync(bird.paths.log).size).toBeLessThanOrEqual(limit + 512);
  },
);
