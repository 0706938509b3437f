// The real executable run as an unprivileged user (nobody, through setpriv): commands that need
// root say "must run as root" on one line and exit 1 before doing anything (no stack trace, no
// "no lab is up"); help, version and completion work for anyone; a read-only command never
// creates a store. Needs root to switch users; touches no network.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/exec/run.ts";
import { isRoot } from "../harness/netns.ts";
import { privateTartanBin } from "../harness/tartan-binary.ts";

const setpriv = Bun.which("setpriv");
const usable = isRoot && setpriv !== null;
const bin = usable ? await privateTartanBin("tartan-cli-nobody-") : "";
// mkdtemp makes the directory 0700: nobody must be able to run the copy in it.
if (bin) chmodSync(bin, 0o755);
afterAll(() => {
  if (bin) rmSync(bin, { recursive: true, force: true });
});

async function asNobody(args: string[], env: Record<string, string> = {}) {
  return await run([setpriv!, "--reuid=65534", "--regid=65534", "--clear-groups", `${bin}/tartan`, ...args], {
    allowFailure: true,
    timeoutMs: 30_000,
    env: { PATH: "/usr/bin:/bin", HOME: "/", ...env },
  });
}

describe.skipIf(!usable)("tartan as an unprivileged user", () => {
  test("root-only commands: one line, must run as root, exit 1, before anything else", async () => {
    for (const args of [
      ["lab", "ls"],
      ["lab", "up", "--lab", "nobodylab"],
      ["lab", "down"],
      ["lab", "pod", "add", "node-1", "shop/web"],
      ["agent", "--config", "/nonexistent.yaml"],
      ["policy", "drops"],
      ["status"],
      ["diagnose", "-o", "/tmp/nobody-bundle.tar.gz"],
    ]) {
      const r = await asNobody(args);
      const what =
        args[0] === "lab" ? `tartan ${args.slice(0, args[1] === "pod" ? 3 : 2).join(" ")}` : args[0]!;
      expect({ args, code: r.code, stdout: r.stdout, lines: r.stderr.split("\n").length }).toEqual({
        args,
        code: 1,
        stdout: "",
        lines: 2,
      });
      expect(r.stderr).toStartWith("tartan: ");
      expect(r.stderr).toContain("must run as root (run it with sudo");
      expect(r.stderr).toContain(what === "policy" ? "tartan policy" : what);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync("/run/tartan-lab/nobodylab")).toBe(false);
  });

  test("object commands looking for the lab that is up: must run as root, not 'no lab is up'", async () => {
    // A private lab root, 0700 like the real one, with a lab in it.
    const root = mkdtempSync(join(tmpdir(), "tartan-cli-labroot-"));
    try {
      mkdirSync(join(root, "one"));
      writeFileSync(join(root, "one", "lab.json"), JSON.stringify({ name: "one", fabric: { netns: "x" } }));
      chmodSync(root, 0o700);
      const r = await asNobody(["get", "pods"], { TARTAN_LAB_ROOT: root });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `tartan: reading ${root} must run as root (run it with sudo: it enters network namespaces and reads root-only state)\n`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("help, version and completion work for anyone", async () => {
    const help = await asNobody(["lab", "up", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toStartWith("Usage: tartan lab up [options]");
    expect((await asNobody(["version", "-o", "json"])).code).toBe(0);
    const bash = await asNobody(["completion", "bash"]);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain("complete -F _tartan tartan");
  });

  test("ipam ls with a mistyped --data-dir: no IPAM store at DIR, nothing created", async () => {
    const dir = `/tmp/tartan-no-such-${process.pid}/ipam`;
    const r = await asNobody(["ipam", "ls", "--data-dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`tartan: no IPAM store at ${dir} (`);
    expect(existsSync(`/tmp/tartan-no-such-${process.pid}`)).toBe(false);
  });

  test("an unexpected error: one line without a stack; the stack only with TARTAN_DEBUG=1", async () => {
    // Port 1 is privileged: the responder's listen fails with a plain (non-Tartan) error.
    const plain = await asNobody(["lab", "responder", "--port", "1"]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe("tartan: listen EACCES: permission denied 0.0.0.0:1\n");
    const debug = await asNobody(["lab", "responder", "--port", "1"], { TARTAN_DEBUG: "1" });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^tartan: Error: listen EACCES.*\n\s+at /);
  });
});
