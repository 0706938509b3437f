// `tartan install`: the DaemonSet's init container. Files land complete or not at all (temp name,
// fsync, rename), are verified by hash, a running old plugin does not block the replacement
// ("text file busy"), nothing is left behind on failure, and a second run changes nothing.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI_COMMANDS } from "../../src/cli/commands/cli-commands.ts";
import { installPlugin } from "../../src/cli/install-plugin.ts";
import { runCommandTable } from "../../src/cli/run-command-table.ts";
import type { ErrorCode } from "../../src/errors/error-code.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";

const tmp = mkdtempSync(join(tmpdir(), "tartan-install-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A source dir like the build's dist/cni: `tartan` (a file) and `tartan-ipam -> tartan`. */
function source(content = `#!/bin/sh\necho plugin ${n}\n`): string {
  const dir = join(tmp, `src-${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "tartan"), content, { mode: 0o755 });
  symlinkSync("tartan", join(dir, "tartan-ipam"));
  return dir;
}
const target = () => join(tmp, `bin-${n++}`);
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

function expectCode(f: () => unknown, code: ErrorCode): TartanError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TartanError);
    expect((e as TartanError).code).toBe(code);
    return e as TartanError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe("installPlugin", () => {
  test("installs the plugin as an executable file and tartan-ipam as a link to it", () => {
    const from = source();
    const to = target();
    const r = installPlugin(from, to);
    expect(r.files.map((f) => [f.name, f.action])).toEqual([
      ["tartan", "installed"],
      ["tartan-ipam", "installed"],
    ]);
    expect(readFileSync(join(to, "tartan"), "utf8")).toBe(readFileSync(join(from, "tartan"), "utf8"));
    expect(statSync(join(to, "tartan")).mode & 0o777).toBe(0o755);
    expect(r.files[0]!.sha256).toBe(sha(join(from, "tartan")));
    expect(lstatSync(join(to, "tartan-ipam")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(to, "tartan-ipam"))).toBe("tartan");
    // Only the two files: no temp file left behind.
    expect(readdirSync(to).sort()).toEqual(["tartan", "tartan-ipam"]);
  });

  test("a second install of the same files changes nothing", () => {
    const from = source();
    const to = target();
    installPlugin(from, to);
    const inode = statSync(join(to, "tartan")).ino;
    const r = installPlugin(from, to);
    expect(r.files.map((f) => f.action)).toEqual(["unchanged", "unchanged"]);
    expect(statSync(join(to, "tartan")).ino).toBe(inode);
  });

  test("a truncated or older file is replaced by a new inode with the source's hash", () => {
    const from = source("#!/bin/sh\necho the full plugin\n");
    const to = target();
    mkdirSync(to);
    writeFileSync(join(to, "tartan"), "#!/bin/sh\necho the fu", { mode: 0o755 });
    writeFileSync(join(to, "tartan-ipam"), "an old copy instead of a link");
    const before = statSync(join(to, "tartan")).ino;
    const r = installPlugin(from, to);
    expect(r.files.map((f) => f.action)).toEqual(["installed", "installed"]);
    expect(sha(join(to, "tartan"))).toBe(sha(join(from, "tartan")));
    expect(statSync(join(to, "tartan")).ino).not.toBe(before);
    expect(readlinkSync(join(to, "tartan-ipam"))).toBe("tartan");
  });

  test("replaces a plugin that is running at that moment (no 'text file busy')", async () => {
    const to = target();
    mkdirSync(to);
    // A real executable, running from the target path while the install replaces it.
    copyFileSync("/bin/sleep", join(to, "tartan"));
    chmodSync(join(to, "tartan"), 0o755);
    const proc = Bun.spawn([join(to, "tartan"), "30"]);
    try {
      await Bun.sleep(50);
      const from = source("#!/bin/sh\necho new\n");
      installPlugin(from, to);
      expect(readFileSync(join(to, "tartan"), "utf8")).toBe("#!/bin/sh\necho new\n");
      expect(proc.exitCode).toBeNull();
    } finally {
      proc.kill();
      await proc.exited;
    }
  });

  test("a missing source fails before anything is written", () => {
    const from = join(tmp, `src-${n++}`);
    mkdirSync(from);
    writeFileSync(join(from, "tartan"), "x", { mode: 0o755 });
    // tartan-ipam is missing: tartan must not be installed alone.
    const to = target();
    const e = expectCode(() => installPlugin(from, to), "install-source-missing");
    expect(e.message).toContain("tartan-ipam");
    expect(readdirSync(to)).toEqual([]);
  });

  test("a target that cannot be replaced fails with install-failed and leaves no temp file", () => {
    const from = source();
    const to = target();
    mkdirSync(join(to, "tartan"), { recursive: true });
    writeFileSync(join(to, "tartan", "keep"), "a directory where the plugin should go");
    const e = expectCode(() => installPlugin(from, to), "install-failed");
    expect(e.message).toContain(join(to, "tartan"));
    expect(readdirSync(to)).toEqual(["tartan"]);
    expect(readFileSync(join(to, "tartan", "keep"), "utf8")).toContain("a directory");
  });

  test("a link that leaves the source dir is copied as the file it points to", () => {
    const from = source();
    const real = join(tmp, `real-${n++}`);
    writeFileSync(real, "#!/bin/sh\necho real\n", { mode: 0o755 });
    rmSync(join(from, "tartan-ipam"));
    symlinkSync(real, join(from, "tartan-ipam"));
    const to = target();
    installPlugin(from, to);
    expect(lstatSync(join(to, "tartan-ipam")).isFile()).toBe(true);
    expect(readFileSync(join(to, "tartan-ipam"), "utf8")).toContain("echo real");
  });
});

describe("tartan install", () => {
  test("--from/--to install and -o json reports each file", async () => {
    const from = source();
    const to = target();
    let out = "";
    const code = await runCommandTable(CLI_COMMANDS, ["install", "--from", from, "--to", to, "-o", "json"], {
      io: {
        out: (t) => {
          out += t;
        },
        err: () => {},
        stdin: async () => "",
      },
      env: {},
    });
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.to).toBe(to);
    expect(r.files.map((f: { name: string; action: string }) => `${f.name}:${f.action}`)).toEqual([
      "tartan:installed",
      "tartan-ipam:installed",
    ]);
  });

  test("a missing source exits 1 with the code's message", async () => {
    let err = "";
    const code = await runCommandTable(
      CLI_COMMANDS,
      ["install", "--from", join(tmp, "nowhere"), "--to", target()],
      {
        io: {
          out: () => {},
          err: (t) => {
            err += t;
          },
          stdin: async () => "",
        },
        env: {},
      },
    );
    expect(code).toBe(1);
    expect(err).toContain("nowhere/tartan");
  });
});
