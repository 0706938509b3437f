// The real bird behind dataplane/linux/bird-process.ts, in the test runner's private namespace
// (scripts/test.sh): its log stays bounded (the agent's `log` line renames it to the backup past
// the limit), and a node moved off a bgp backend stops it and removes its pool routes
// (agent/retire-bird.ts). Every bird started here is ended by its pid, also on failure.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROTO_BIRD, retireBird } from "../../src/agent/retire-bird.ts";
import { BirdProcess } from "../../src/dataplane/linux/bird-process.ts";
import { NetlinkDataplane } from "../../src/dataplane/linux/netlink-dataplane.ts";
import { run } from "../../src/exec/run.ts";
import { eventually } from "../harness/eventually.ts";
import { isRoot } from "../harness/netns.ts";

const haveBird = existsSync("/usr/sbin/bird");
const birds: BirdProcess[] = [];
const dirs: string[] = [];
function newBird(): BirdProcess {
  const dir = mkdtempSync(join(tmpdir(), "tartan-birdproc-"));
  dirs.push(dir);
  const bird = new BirdProcess(dir, "bird");
  birds.push(bird);
  return bird;
}

afterAll(async () => {
  for (const bird of birds) {
    const pid = bird.process();
    if (pid !== undefined) bird.kill(pid);
  }
  // Routes a failed retirement test may have left in the runner's namespace.
  for (const dst of ["10.244.5.0/26", "10.99.0.0/24"]) {
    await run(["ip", "route", "del", dst, "proto", String(PROTO_BIRD)], { allowFailure: true });
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test.skipIf(!haveBird || !isRoot)(
  "bird renames its log to the backup past the limit, and goes on logging",
  async () => {
    const bird = newBird();
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
    expect(await bird.terminate(pid)).toBe(true);
  },
);

test.skipIf(!haveBird || !isRoot)(
  "retirement: a bird with persist routes is stopped; its routes inside the pools go, others stay",
  async () => {
    const bird = newBird();
    await bird.writeConfig(
      `log "${bird.paths.log}" 1000000 "${bird.paths.logBackup}" all;\nrouter id 198.18.0.1;\n` +
        "protocol device { scan time 10; }\n" +
        "protocol kernel k4 { ipv4 { export all; }; persist; scan time 10; }\n" +
        "protocol static s4 { ipv4; route 10.244.5.0/26 blackhole; route 10.99.0.0/24 blackhole; }\n",
    );
    const pid = await bird.start();
    const dp = new NetlinkDataplane();
    const birdRoutes = async () =>
      (await dp.routes(null, 4))
        .filter((r) => r.proto === PROTO_BIRD)
        .map((r) => r.dst)
        .sort();
    await eventually("bird exported its routes", async () => (await birdRoutes()).length === 2, {
      timeoutMs: 10_000,
    });
    const logs: string[] = [];
    const out = await retireBird(bird, dp, [{ cidr: "10.244.0.0/16" }], (_l, m) => logs.push(m), true);
    expect(out).toEqual({ stopped: pid, routesRemoved: 1 });
    expect(bird.process()).toBeUndefined();
    expect(existsSync(`/proc/${pid}`) && !/ Z /.test(await Bun.file(`/proc/${pid}/stat`).text())).toBe(false);
    expect(await birdRoutes()).toEqual(["10.99.0.0/24"]);
    expect(logs).toContain("removed the routes an earlier bird left in the kernel");
  },
);
