// scripts/check-imports.ts against small trees: a clean tree passes, and each rule fails on one
// planted violation, naming the file and what is wrong.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const SCRIPT = resolve(import.meta.dir, "../../scripts/check-imports.ts");
const base = mkdtempSync(join(tmpdir(), "tt-check-imports-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A tree that follows every rule: ports, adapters wired by main.ts and the opener, exec spawning. */
const CLEAN: Record<string, string> = {
  "src/model/ip.ts": "export const IP = 1;\n",
  "src/errors/tartan-error.ts": 'import { IP } from "../model/ip.ts";\nexport const E = IP;\n',
  "src/exec/run.ts":
    'import { spawn } from "node:child_process";\nexport const run = () => Bun.spawn(["true"]);\nexport { spawn };\n',
  "src/api/agent-client.ts": 'import { E } from "../errors/tartan-error.ts";\nexport const C = E;\n',
  "src/datastore/datastore.ts": "export interface Datastore {}\n",
  "src/datastore/memory-datastore.ts":
    'import type { Datastore } from "./datastore.ts";\nexport const m: Datastore = {};\n',
  "src/datastore/local/sqlite.ts": 'import { Database } from "bun:sqlite";\nexport { Database };\n',
  "src/datastore/etcd/etcd.ts": 'import { connect } from "node:http2";\nexport const Etcd3 = connect;\n',
  "src/datastore/etcd/raw-etcd.ts": 'import { Etcd3 } from "./etcd.ts";\nexport const RawEtcd = Etcd3;\n',
  // The one exception to adapter wiring: the lab's stand-in API server and the raw etcd helper.
  "src/lab/kube-apiserver/store.ts":
    'import { RawEtcd } from "../../datastore/etcd/raw-etcd.ts";\nexport { RawEtcd };\n',
  "src/datastore/open-datastore.ts":
    'export const open = async () => (await import("./etcd/etcd.ts")).Etcd3;\nimport { Database } from "./local/sqlite.ts";\nexport { Database };\n',
  "src/dataplane/dataplane.ts": "export interface Dataplane {}\n",
  "src/dataplane/linux/netlink/libc.ts": 'import { dlopen } from "bun:ffi";\nexport { dlopen };\n',
  "src/dataplane/linux/netlink-dataplane.ts":
    'import { dlopen } from "./netlink/libc.ts";\nexport { dlopen };\n',
  "src/dataplane/fake/fake-dataplane.ts":
    'import type { Dataplane } from "../dataplane.ts";\nexport const f: Dataplane = {};\n',
  "src/cni/run-cni.ts": 'import { run } from "../exec/run.ts";\nexport const cni = run;\n',
  // A comment that names Bun.spawn is not a call.
  "src/agent/agent.ts":
    '// the agent never calls Bun.spawn itself\nimport type { Dataplane } from "../dataplane/dataplane.ts";\nexport type A = Dataplane;\n',
  // The plugin's entry: its static imports load no built-in (but bun:ffi in VERSION's stdin
  // reader); the verbs come by dynamic import.
  "src/exec/read-fd-sync.ts": 'import { dlopen } from "bun:ffi";\nexport const readFdSync = dlopen;\n',
  "src/cni/version.ts":
    'import type { Server } from "node:http";\nimport { readFdSync } from "../exec/read-fd-sync.ts";\nexport const V = "1.1.0";\nexport type D = Server;\nexport { readFdSync };\n',
  "src/cni-main.ts":
    'import { V } from "./cni/version.ts";\nexport const main = async () => V + (await import("./cni/run-cni.ts")).cni;\n',
  "src/main.ts":
    'import { cni } from "./cni/run-cni.ts";\nimport { dlopen } from "./dataplane/linux/netlink-dataplane.ts";\nimport { f } from "./dataplane/fake/fake-dataplane.ts";\nimport { m } from "./datastore/memory-datastore.ts";\nexport { cni, dlopen, f, m };\n',
};

let n = 0;
function check(files: Record<string, string>): { code: number; stderr: string } {
  const root = join(base, `t${n++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const p = Bun.spawnSync([process.execPath, SCRIPT, "--root", root], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stderr: p.stderr.toString() };
}

describe("check-imports", () => {
  test("a clean tree passes", () => {
    const r = check(CLEAN);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  const cases: [string, Record<string, string>, string[]][] = [
    [
      "layer order: model importing datastore",
      {
        "src/model/bad.ts":
          'import type { Datastore } from "../datastore/datastore.ts";\nexport type B = Datastore;\n',
      },
      ["src/model/bad.ts (layer model) imports src/datastore/datastore.ts (layer datastore)"],
    ],
    [
      "a file outside every layer",
      { "src/web/page.ts": "export const page = 1;\n" },
      ["src/web/page.ts: not inside a known layer"],
    ],
    [
      "an import cycle",
      {
        "src/model/a.ts": 'import { b } from "./b.ts";\nexport const a = b;\n',
        "src/model/b.ts": 'import { a } from "./a.ts";\nexport const b = () => a;\n',
      },
      ["import cycle: src/model/", "src/model/a.ts -> src/model/b.ts", "src/model/b.ts -> src/model/a.ts"],
    ],
    [
      "node:child_process outside exec/",
      {
        "src/datastore/spawner.ts": 'import { execFile } from "node:child_process";\nexport { execFile };\n',
      },
      ["src/datastore/spawner.ts imports node:child_process, which only src/exec/ may use"],
    ],
    [
      "Bun.spawn outside exec/",
      { "src/lab/start.ts": 'export const start = () => Bun.spawn(["etcd"]);\n' },
      ["src/lab/start.ts calls Bun.spawn"],
    ],
    [
      "Bun.spawnSync outside exec/",
      { "src/cli/x.ts": 'export const x = () => Bun.spawnSync(["ip", "link"]);\n' },
      ["src/cli/x.ts calls Bun.spawn"],
    ],
    [
      "bun:ffi outside the netlink driver",
      { "src/dataplane/linux/linux-dataplane.ts": 'import { dlopen } from "bun:ffi";\nexport { dlopen };\n' },
      ["src/dataplane/linux/linux-dataplane.ts imports bun:ffi, which only the netlink driver"],
    ],
    [
      "bun:sqlite outside the local datastore",
      { "src/agent/cache.ts": 'import type { Database } from "bun:sqlite";\nexport type D = Server;\n' },
      ["src/agent/cache.ts imports bun:sqlite, which only src/datastore/local/ may use"],
    ],
    [
      "node:http2 outside the etcd adapter",
      { "src/datastore/local/mirror.ts": 'import { connect } from "node:http2";\nexport { connect };\n' },
      ["src/datastore/local/mirror.ts imports node:http2, which only src/datastore/etcd/ may use"],
    ],
    [
      "the etcd3 package anywhere in src/",
      { "src/datastore/etcd/old.ts": 'import { Etcd3 } from "etcd3";\nexport { Etcd3 };\n' },
      ["src/datastore/etcd/old.ts imports etcd3, which only tests and benches (a dev dependency) may use"],
    ],
    [
      "a layer importing a Linux driver",
      {
        "src/agent/wire.ts":
          'import { dlopen } from "../dataplane/linux/netlink-dataplane.ts";\nexport { dlopen };\n',
      },
      ["src/agent/wire.ts imports the concrete adapter src/dataplane/linux/netlink-dataplane.ts"],
    ],
    [
      "a layer importing the fake kernel",
      { "src/cni/deps.ts": 'import { f } from "../dataplane/fake/fake-dataplane.ts";\nexport { f };\n' },
      ["src/cni/deps.ts imports the concrete adapter src/dataplane/fake/fake-dataplane.ts"],
    ],
    [
      "a layer importing the SQLite, etcd or memory datastore",
      {
        "src/cli/a.ts": 'import { Database } from "../datastore/local/sqlite.ts";\nexport { Database };\n',
        "src/cli/b.ts": 'export const b = () => import("../datastore/etcd/etcd.ts");\n',
        "src/agent/c.ts": 'import { m } from "../datastore/memory-datastore.ts";\nexport { m };\n',
      },
      [
        "src/cli/a.ts imports the concrete adapter src/datastore/local/sqlite.ts",
        "src/cli/b.ts imports the concrete adapter src/datastore/etcd/etcd.ts",
        "src/agent/c.ts imports the concrete adapter src/datastore/memory-datastore.ts",
      ],
    ],
    [
      "the raw etcd helper imported outside the stand-in API server, or another etcd file from it",
      {
        "src/lab/lab-up.ts":
          'import { RawEtcd } from "./../datastore/etcd/raw-etcd.ts";\nexport { RawEtcd };\n',
        "src/lab/kube-apiserver/other.ts":
          'import { Etcd3 } from "../../datastore/etcd/etcd.ts";\nexport { Etcd3 };\n',
      },
      [
        "src/lab/lab-up.ts imports the concrete adapter src/datastore/etcd/raw-etcd.ts",
        "src/lab/kube-apiserver/other.ts imports the concrete adapter src/datastore/etcd/etcd.ts",
      ],
    ],
    [
      "one adapter importing another",
      {
        "src/datastore/etcd/cache.ts":
          'import { Database } from "../local/sqlite.ts";\nexport { Database };\n',
      },
      ["src/datastore/etcd/cache.ts imports the concrete adapter src/datastore/local/sqlite.ts"],
    ],
    [
      "a layer reaching sideways into cni/",
      { "src/agent/defaults.ts": 'import { cni } from "../cni/run-cni.ts";\nexport { cni };\n' },
      ["src/agent/defaults.ts imports src/cni/run-cni.ts: src/cni/ is the plugin"],
    ],
    [
      "a built-in module on the plugin's VERSION path (a static import from src/cni-main.ts)",
      {
        "src/cni/version.ts":
          'import { readSync } from "node:fs";\nexport const V = "1.1.0";\nexport { readSync };\n',
      },
      [
        "src/cni/version.ts imports node:fs statically and src/cni-main.ts reaches it without a dynamic import",
      ],
    ],
    [
      "bun:ffi on the VERSION path anywhere but the stdin reader",
      {
        "src/exec/other-read.ts": 'import { dlopen } from "bun:ffi";\nexport const r = dlopen;\n',
        "src/cni/version.ts":
          'import { r } from "../exec/other-read.ts";\nexport const V = "1.1.0";\nexport { r };\n',
      },
      [
        "src/exec/other-read.ts imports bun:ffi statically and src/cni-main.ts reaches it without a dynamic import",
      ],
    ],
  ];

  for (const [name, planted, expected] of cases) {
    test(`fails on ${name}`, () => {
      const r = check({ ...CLEAN, ...planted });
      expect(r.code).toBe(1);
      for (const e of expected) expect(r.stderr).toContain(e);
    });
  }
});
