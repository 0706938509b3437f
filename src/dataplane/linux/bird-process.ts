import {
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { TartanError } from "../../errors/tartan-error.ts";
import { run } from "../../exec/run.ts";
import { spawnDetached } from "../../exec/spawn-detached.ts";
import { type BirdDaemon, type BirdPaths, type BirdReply, birdPaths } from "../bird-daemon.ts";

const SBIN_DIRS = ["/usr/sbin", "/usr/local/sbin", "/sbin"];

/** `bird` as configured: an absolute path, else the first match in PATH, then the sbin dirs. */
export function findBird(birdPath: string, env: Record<string, string | undefined> = process.env): string {
  if (birdPath.startsWith("/")) return birdPath;
  const dirs = [...(env.PATH ?? "").split(":").filter(Boolean), ...SBIN_DIRS];
  for (const d of dirs) if (existsSync(`${d}/${birdPath}`)) return `${d}/${birdPath}`;
  throw new TartanError(
    "bgp-bird-failed",
    `no "${birdPath}" executable in PATH or ${SBIN_DIRS.join(", ")}`,
    "install BIRD 2 (Debian: apt-get install bird2, then disable bird.service) or set bgp.birdPath in the agent config",
  );
}

/** Splits reply text into lines: `CODE-text` / `CODE text` (last), ` text` continues the last code. */
export function parseBirdReply(text: string): { lines: BirdReply; done: boolean } {
  const lines: BirdReply = [];
  let code = 0;
  let done = false;
  for (const raw of text.split("\n")) {
    if (raw === "") continue;
    const m = /^(\d{4})([ -])(.*)$/.exec(raw);
    if (m) {
      code = Number(m[1]);
      lines.push({ code, text: m[3]! });
      if (m[2] === " ") done = true;
    } else {
      lines.push({ code, text: raw.startsWith(" ") ? raw.slice(1) : raw });
    }
  }
  return { lines, done };
}

/**
 * The real BIRD of this node: files under one directory, `bird` spawned detached (its own session,
 * so it outlives a planned agent stop: graceful restart), its control socket spoken to directly
 * (the line protocol of doc/reply_codes; no birdc process per question).
 */
export class BirdProcess implements BirdDaemon {
  readonly paths: BirdPaths;

  constructor(
    dir: string,
    private readonly birdPath: string,
  ) {
    this.paths = birdPaths(dir);
  }

  async writeConfig(text: string): Promise<void> {
    mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.paths.conf}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    const r = await run([findBird(this.birdPath), "-p", "-c", tmp], {
      allowFailure: true,
      timeoutMs: 10_000,
    });
    if (r.code !== 0) {
      rmSync(tmp, { force: true });
      throw new TartanError(
        "bgp-config-invalid",
        `bird refused the generated config: ${(r.stderr || r.stdout).trim().split("\n")[0]}`,
        "a tartan bug or an object the validation let through: report it with the agent's log; bird keeps running its previous config",
      );
    }
    renameSync(tmp, this.paths.conf);
  }

  async running(): Promise<number | undefined> {
    try {
      await this.command("show status", 2000);
    } catch {
      return undefined;
    }
    try {
      const pid = Number(readFileSync(this.paths.pid, "utf8").trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  process(): number | undefined {
    try {
      const pid = Number(readFileSync(this.paths.pid, "utf8").trim());
      if (!Number.isInteger(pid) || pid <= 1) return undefined;
      // A zombie (dead, not yet reaped by the agent that spawned it) counts as gone.
      if (/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"))) return undefined;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      return cmdline.includes(this.paths.ctl) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  kill(pid: number): void {
    if (this.process() !== pid) return; // only the bird of this directory, by its pid file
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }

  sharesNetns(pid: number): boolean {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync("/proc/thread-self/ns/net");
    } catch {
      return false;
    }
  }

  async terminate(pid: number, graceMs = 5000): Promise<boolean> {
    if (this.process() !== pid) return this.process() === undefined;
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
    const deadline = Date.now() + graceMs;
    while (this.process() === pid && Date.now() < deadline) await Bun.sleep(50);
    if (this.process() === pid) this.kill(pid);
    for (let i = 0; i < 20 && this.process() === pid; i++) await Bun.sleep(50);
    return this.process() !== pid;
  }

  async start(): Promise<number> {
    const bird = findBird(this.birdPath);
    mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    rmSync(this.paths.pid, { force: true });
    // -R (graceful restart recovery: peers keep our routes, and the kernel is not synced until
    // every peer has re-sent its routes) only when a previous bird left routes in the kernel
    // (`persist`): that is a restart, and keeping those routes is the point. A first start has
    // nothing to keep, and -R would hold every learned route out of the kernel until all peers
    // converge or `graceful restart wait` (240 s) ends — with peers starting at the same time,
    // a 50-node lab's first pod stayed unreachable for longer than 15 s. -f: foreground; its
    // stderr (what it says before its config's `log` line takes over: a refused config, a crash)
    // goes to bird.log too, and its own log is size-limited there (renamed to bird.log.1).
    const restart = (await kernelHoldsBirdRoutes()) ? ["-R"] : [];
    const pid = await spawnDetached(
      [bird, "-f", ...restart, "-c", this.paths.conf, "-s", this.paths.ctl, "-P", this.paths.pid],
      { logFile: this.paths.log },
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      if ((await this.running()) !== undefined) return pid;
      if (Date.now() > deadline || !existsSync(`/proc/${pid}`)) {
        throw new TartanError(
          "bgp-bird-failed",
          `bird (pid ${pid}) did not answer on ${this.paths.ctl} within 10 s`,
          `read ${this.paths.log}`,
        );
      }
      await Bun.sleep(50);
    }
  }

  command(cmd: string, timeoutMs = 10_000): Promise<BirdReply> {
    return new Promise((resolve, reject) => {
      let buf = "";
      let greeted = false;
      let settled = false;
      const sock = createConnection({ path: this.paths.ctl });
      const finish = (e?: Error, r?: BirdReply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        if (e) reject(e);
        else resolve(r ?? []);
      };
      const fail = (why: string) =>
        finish(
          new TartanError(
            "bgp-bird-failed",
            `bird's control socket ${this.paths.ctl}: ${why}`,
            `is bird running? (pid in ${this.paths.pid}, log in ${this.paths.log})`,
          ),
        );
      const timer = setTimeout(() => fail(`no answer to "${cmd}" within ${timeoutMs} ms`), timeoutMs);
      sock.setEncoding("utf8");
      sock.on("error", (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
      sock.on("close", () => fail("closed before the reply ended"));
      sock.on("data", (chunk: string) => {
        buf += chunk;
        if (!buf.endsWith("\n")) return;
        const { lines, done } = parseBirdReply(buf);
        if (!greeted) {
          if (!done) return;
          greeted = true; // "0001 BIRD 2.0.12 ready."
          buf = "";
          sock.write(`${cmd}\n`);
          return;
        }
        if (done) finish(undefined, lines);
      });
    });
  }
}

/** Whether routes of a previous bird (`proto bird`) are in this namespace's main table. */
async function kernelHoldsBirdRoutes(): Promise<boolean> {
  for (const family of ["-4", "-6"]) {
    const r = await run(["ip", family, "route", "show", "proto", "bird"], {
      timeoutMs: 5_000,
      allowFailure: true,
    });
    if (r.stdout.trim() !== "") return true;
  }
  return false;
}
