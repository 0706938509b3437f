// The command table: one parser, help generated from the table (stdout, exit 0, never running
// the command), one exit-code mapping, one lab option, one pod-reference parser, the lab picked
// when one is up, read-only stores, and shell completion generated from the table and run in a
// real bash (and checked by zsh -n when zsh is installed).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withBuiltins } from "../../src/cli/builtin-commands.ts";
import { type Command, type CommandTable, defineCommand, isGroup } from "../../src/cli/command.ts";
import { parseCommandArgs } from "../../src/cli/command-args.ts";
import { optionsOf } from "../../src/cli/command-help.ts";
import { CLI_COMMANDS } from "../../src/cli/commands/cli-commands.ts";
import { completionScript } from "../../src/cli/completion-script.ts";
import { pickLab, requireLabName } from "../../src/cli/labs-up.ts";
import { requireRoot } from "../../src/cli/require-root.ts";
import { commandExists, runCommandTable } from "../../src/cli/run-command-table.ts";
import { openSqliteIpamStore } from "../../src/datastore/local/sqlite-ipam-store.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { run } from "../../src/exec/run.ts";
import { LAB_COMMANDS } from "../../src/lab/commands/lab-commands.ts";
import { ROUTING_BACKENDS } from "../../src/model/routing-backend.ts";
import { UI_COMMANDS } from "../../src/ui/commands/ui-command.ts";

const tmp = mkdtempSync(join(tmpdir(), "tartan-cli-table-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TABLE: CommandTable = [...CLI_COMMANDS, ...LAB_COMMANDS, ...UI_COMMANDS];

/** The same table, where running any command fails the test: help must never run one. */
const NEVER_RUN: CommandTable = TABLE.map((e) =>
  isGroup(e)
    ? e
    : {
        ...e,
        run: async () => {
          throw new Error(`tartan ${e.path.join(" ")} ran`);
        },
      },
);

async function cli(table: CommandTable, argv: string[], env: Record<string, string | undefined> = {}) {
  let out = "";
  let err = "";
  const code = await runCommandTable(table, argv, {
    io: {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
      stdin: async () => "",
    },
    env,
    openIpamStoreReadOnly: (dir) => openSqliteIpamStore(dir, { readOnly: true }),
  });
  return { code, out, err };
}

const commands = (t: CommandTable) =>
  withBuiltins(t).filter((e): e is Command<never> => !isGroup(e) && !e.hidden);

describe("the parser", () => {
  const spec = {
    path: ["x"],
    args: [{ name: "A" }, { name: "B", optional: true }],
  };
  const opts = [
    { name: "lab", value: "NAME", description: "" },
    { name: "output", short: "o", value: "F", description: "", values: ["table", "json"], default: "table" },
    { name: "file", short: "f", value: "F", description: "", multiple: true },
    { name: "all", short: "A", description: "" },
  ];

  test("--opt VALUE, --opt=VALUE, -o VALUE, -oVALUE, flags, - as a positional, defaults", () => {
    const a = parseCommandArgs(spec, opts, ["one", "--lab=l1", "-ojson", "-f", "a", "-f", "-", "-A", "-"]);
    expect(a.positionals).toEqual(["one", "-"]);
    expect(a.get("lab")).toBe("l1");
    expect(a.get("output")).toBe("json");
    expect(a.all("file")).toEqual(["a", "-"]);
    expect(a.flag("all")).toBe(true);
    expect(parseCommandArgs(spec, opts, ["one"]).get("output")).toBe("table");
  });

  test("usage errors: unknown option, missing value, a value outside the list, arity, given twice", () => {
    const usage = (argv: string[]) => {
      try {
        parseCommandArgs(spec, opts, argv);
      } catch (e) {
        expect(e).toBeInstanceOf(TartanError);
        expect((e as TartanError).code).toBe("cli-usage");
        expect((e as TartanError).hint).toBe("see tartan x --help");
        return (e as TartanError).message;
      }
      throw new Error(`no error for ${argv.join(" ")}`);
    };
    expect(usage(["one", "--name", "x"])).toBe("unknown option --name");
    expect(usage(["one", "--lab"])).toBe("--lab needs a value (NAME)");
    expect(usage(["one", "-o", "xml"])).toBe('-o "xml" is not one of table, json');
    expect(usage([])).toBe("missing A");
    expect(usage(["a", "b", "c"])).toBe('unexpected argument "c"');
    expect(usage(["a", "--lab", "x", "--lab", "y"])).toBe('--lab given twice ("x" and "y")');
    expect(usage(["a", "-A=1"])).toBe("-A takes no value");
  });

  test("everything after -- is the rest, untouched", () => {
    const a = parseCommandArgs({ path: ["e"], args: [{ name: "POD" }], rest: "CMD" }, opts, [
      "web",
      "--",
      "ping",
      "--lab",
      "-c",
    ]);
    expect(a.positionals).toEqual(["web"]);
    expect(a.rest).toEqual(["ping", "--lab", "-c"]);
  });
});

describe("help, generated from the table", () => {
  test("--help and -h of every command and group: stdout, exit 0, the command never runs", async () => {
    const entries = withBuiltins(NEVER_RUN).filter((e) => isGroup(e) || !e.hidden);
    expect(entries.length).toBeGreaterThan(25);
    for (const e of entries) {
      for (const flag of ["--help", "-h"]) {
        // Extra arguments, even wrong ones, do not turn help into a usage error.
        const r = await cli(NEVER_RUN, [...e.path, "--bogus", flag]);
        expect({ path: e.path, flag, code: r.code, err: r.err }).toEqual({
          path: e.path,
          flag,
          code: 0,
          err: "",
        });
        expect(r.out).toStartWith(`Usage: tartan ${e.path.join(" ")}`);
      }
    }
  });

  test("a command's help shows its options with defaults and allowed values, and examples", async () => {
    const r = await cli(TABLE, ["lab", "up", "--help"]);
    expect(r.out).toContain("Usage: tartan lab up [options]");
    expect(r.out).toContain(`--backend BACKEND`);
    expect(r.out).toContain(`one of: ${ROUTING_BACKENDS.join(", ")}; default: vxlan`);
    expect(r.out).toContain("--lab NAME");
    expect(r.out).toContain("-o, --output FORMAT");
    expect(r.out).toContain("Examples:\n  tartan lab up\n");
    expect((await cli(TABLE, ["lab", "exec", "-h"])).out).toContain(
      "Usage: tartan lab exec POD [options] -- CMD...",
    );
  });

  test("tartan, tartan help, tartan --help list every visible command; bare tartan exits 2", async () => {
    const bare = await cli(NEVER_RUN, []);
    expect(bare.code).toBe(2);
    for (const argv of [["help"], ["--help"], ["-h"]]) {
      const r = await cli(NEVER_RUN, argv);
      expect(r.code).toBe(0);
      expect(r.out).toBe(bare.out);
    }
    for (const c of commands(TABLE)) expect(bare.out).toContain(`tartan ${c.path.join(" ")}`);
    expect(bare.out).not.toContain("lab responder");
    expect(bare.out).toContain("Exit codes: 0 ok, 1 error, 2 usage error");
    expect((await cli(NEVER_RUN, ["help", "lab", "pod", "add"])).out).toStartWith(
      "Usage: tartan lab pod add NODE POD [options]",
    );
    const group = await cli(NEVER_RUN, ["lab"]);
    expect(group.code).toBe(2);
    expect(group.out).toContain("tartan lab pod add NODE POD");
  });

  test("unknown commands and bad arguments: one line on stderr naming the help, exit 2", async () => {
    expect(await cli(NEVER_RUN, ["nope"])).toEqual({
      code: 2,
      out: "",
      err: 'tartan: unknown command "nope" (see tartan --help)\n',
    });
    expect((await cli(NEVER_RUN, ["lab", "nope"])).err).toBe(
      'tartan: unknown command "lab nope" (see tartan lab --help)\n',
    );
    expect((await cli(NEVER_RUN, ["lab", "pod", "add", "node-1"])).err).toBe(
      "tartan: missing POD (see tartan lab pod add --help)\n",
    );
    expect((await cli(NEVER_RUN, ["version", "-o", "xml"])).code).toBe(2);
  });
});

describe("one shape for every command", () => {
  test("-o table|json|yaml|wide on every command with a renderer; json and yaml come from the reporter", async () => {
    for (const c of commands(TABLE)) {
      const o = optionsOf(c).find((x) => x.name === "output");
      // get adds kubectl's `-o name`; diagnose's -o is the bundle file it writes.
      const own = c.path.join(" ") === "get" ? ["name"] : [];
      if (c.path.join(" ") === "diagnose") expect(o?.value).toBe("FILE.tar.gz");
      else
        expect({ path: c.path, output: o?.values ?? null }).toEqual({
          path: c.path,
          output: c.render ? ["table", "json", "yaml", "wide", ...own] : null,
        });
    }
    const table = await cli(TABLE, ["version"]);
    expect((await cli(TABLE, ["version", "-o", "wide"])).out).toBe(table.out);
    expect(JSON.parse((await cli(TABLE, ["version", "-o", "json"])).out).cniVersions).toContain("1.1.0");
    expect((await cli(TABLE, ["version", "-o", "yaml"])).out).toContain("cniVersions:");
    expect((await cli(TABLE, ["--version"])).out).toBe(table.out);
  });

  test("every lab command takes --lab NAME; none takes --name", () => {
    const lab = commands(TABLE).filter((c) => c.path[0] === "lab");
    expect(lab.length).toBeGreaterThan(10);
    for (const c of lab) {
      const names = optionsOf(c).map((o) => o.name);
      expect({ path: c.path, lab: names.includes("lab") }).toEqual({ path: c.path, lab: true });
    }
    for (const c of withBuiltins(TABLE).filter((e): e is Command<never> => !isGroup(e)))
      expect({ path: c.path, name: optionsOf(c).some((o) => o.name === "name") }).toEqual({
        path: c.path,
        name: false,
      });
  });

  test("errors: TartanError is message and hint on one line, exit 1; usage exit 2", async () => {
    const t: CommandTable = [
      defineCommand({
        path: ["boom"],
        summary: "s",
        run: async () => {
          throw new TartanError(
            "datastore-unavailable",
            "the datastore at http://x:2379 is unreachable",
            "is etcd up?",
          );
        },
      }),
    ];
    expect(await cli(t, ["boom"])).toEqual({
      code: 1,
      out: "",
      err: "tartan: the datastore at http://x:2379 is unreachable (is etcd up?)\n",
    });
  });

  test("commandExists: over the whole table, groups and builtins included", () => {
    expect(commandExists(TABLE, ["lab", "pod", "add"])).toBe(true);
    expect(commandExists(TABLE, ["lab", "pod"])).toBe(true);
    expect(commandExists(TABLE, ["completion"])).toBe(true);
    expect(commandExists(TABLE, ["ipam", "ls"])).toBe(true);
    expect(commandExists(TABLE, ["ipam", "frobnicate"])).toBe(false);
  });

  test("must run as root: said before anything else", () => {
    expect(() => requireRoot("tartan lab ls", 65534)).toThrow("tartan lab ls must run as root");
    expect(() => requireRoot("tartan lab ls", 0)).not.toThrow();
    const root = commands(TABLE)
      .filter((c) => c.needsRoot)
      .map((c) => c.path.join(" "));
    expect(root).toContain("agent");
    expect(root).toContain("lab up");
    expect(root).toContain("lab pod add");
    expect(root).toContain("lab ls");
  });
});

describe("which lab", () => {
  const root = join(tmp, "labs");
  const up = (name: string) => {
    mkdirSync(join(root, name), { recursive: true });
    writeFileSync(
      join(root, name, "lab.json"),
      JSON.stringify({ name, fabric: { netns: `tl-${name}-fabric` } }),
    );
  };

  test("none up: undefined (an error where one is needed); one up: it; several: an error listing them", () => {
    expect(pickLab(undefined, root)).toBeUndefined();
    expect(() => requireLabName(undefined, root)).toThrow("no lab is up");
    up("one");
    mkdirSync(join(root, "half"), { recursive: true }); // no lab.json: not up
    expect(pickLab(undefined, root)).toBe("one");
    expect(pickLab("other", root)).toBe("other");
    up("two");
    let e: TartanError | undefined;
    try {
      pickLab(undefined, root);
    } catch (x) {
      e = x as TartanError;
    }
    expect(e?.message).toBe("2 labs are up (one, two): which one?");
    expect(e?.hint).toBe("pick one with --lab NAME");
    expect(e?.code).toBe("cli-usage");
    expect(pickLab("two", root)).toBe("two");
  });
});

describe("ipam ls is read-only", () => {
  test("a mistyped --data-dir: no IPAM store at DIR, exit 1, nothing created", async () => {
    const dir = join(tmp, "typo", "ipam");
    const r = await cli(TABLE, ["ipam", "ls", "--data-dir", dir]);
    expect(r.code).toBe(1);
    expect(r.err).toStartWith(`tartan: no IPAM store at ${dir} (check --data-dir`);
    expect(existsSync(join(tmp, "typo"))).toBe(false);
  });

  test("an existing store is listed", async () => {
    const dir = join(tmp, "ipam");
    const store = openSqliteIpamStore(dir);
    store.transaction((tx) =>
      tx.reserve({
        network: "n1",
        ip: "10.1.0.2",
        containerId: "c".repeat(64),
        ifname: "eth0",
        rangeKey: "0",
      }),
    );
    store.close();
    const r = await cli(TABLE, ["ipam", "ls", "--data-dir", dir, "-o", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).networks[0].allocations[0].ip).toBe("10.1.0.2");
    expect((await cli(TABLE, ["ipam", "ls", "--data-dir", dir])).out).toBe(
      `NETWORK  ADDRESS   CONTAINER     IFNAME\nn1       10.1.0.2  ${"c".repeat(12)}  eth0\n`,
    );
    // wide: the same table with the whole container id and the range set.
    expect((await cli(TABLE, ["ipam", "ls", "--data-dir", dir, "-o", "wide"])).out).toBe(
      `NETWORK  ADDRESS   CONTAINER${" ".repeat(55)}  IFNAME  RANGE\nn1       10.1.0.2  ${"c".repeat(64)}  eth0    0\n`,
    );
  });
});

describe("shell completion, generated from the table", () => {
  const bashScript = completionScript(withBuiltins(TABLE), "bash");
  const file = join(tmp, "tartan.bash");
  writeFileSync(file, bashScript);

  /** COMPREPLY for `tartan WORDS…` with the cursor on the last word, in a real bash. */
  async function complete(words: string[]): Promise<string[]> {
    const arr = ["tartan", ...words].map((w) => `'${w}'`).join(" ");
    const r = await run(
      [
        "bash",
        "--norc",
        "-c",
        `source ${file}; COMP_WORDS=(${arr}); COMP_CWORD=${words.length}; _tartan; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { timeoutMs: 10_000 },
    );
    return r.stdout.split("\n").filter(Boolean).sort();
  }

  test("commands, subcommands, options, option values (backends, formats), positional values", async () => {
    expect(await complete([""])).toEqual(
      [
        "agent",
        "apply",
        "bgp",
        "completion",
        "delete",
        "drops",
        "explain",
        "diagnose",
        "get",
        "help",
        "install",
        "ipam",
        "lab",
        "label",
        "manifest",
        "policy",
        "ui",
        "status",
        "version",
      ].sort(),
    );
    expect(await complete(["la"])).toEqual(["lab", "label"]);
    expect(await complete(["lab", "pod", ""])).toEqual(["add", "rm"]);
    expect(await complete(["lab", ""])).not.toContain("responder");
    expect(await complete(["lab", "up", "--backend", ""])).toEqual([...ROUTING_BACKENDS].sort());
    expect(await complete(["lab", "up", "--nodes", "3", "--ba"])).toEqual(["--backend"]);
    expect(await complete(["get", "pods", "-o", ""])).toEqual(["json", "name", "table", "wide", "yaml"]);
    expect(await complete(["get", ""])).toEqual(
      [
        "bgpconfigurations",
        "bgppeers",
        "ipamblocks",
        "ippools",
        "namespaces",
        "networkpolicies",
        "nodes",
        "pods",
      ].sort(),
    );
    expect(await complete(["lab", "pod", "add", "--l"])).toEqual(["--labels", "--lab"].sort());
    expect(await complete(["completion", ""])).toEqual(["bash", "zsh"]);
    expect(await complete(["lab", "exec", "web", "--", "p"])).toEqual([]);
    // About 15 bash runs: ~3 s alone, several times that on a loaded 2-core machine.
  }, 30_000);

  const zsh = Bun.which("zsh");
  test.skipIf(!zsh)("the zsh script parses (zsh -n)", async () => {
    const zfile = join(tmp, "tartan.zsh");
    writeFileSync(zfile, completionScript(withBuiltins(TABLE), "zsh"));
    const r = await run([zsh!, "-n", zfile], { allowFailure: true });
    expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: "" });
  });

  test.skipIf(!zsh)("in zsh through bashcompinit, the same completer answers", async () => {
    const zfile = join(tmp, "tartan2.zsh");
    writeFileSync(zfile, completionScript(withBuiltins(TABLE), "zsh"));
    const r = await run(
      [
        zsh!,
        "-f",
        "-c",
        `autoload -U compinit && compinit -u; source ${zfile}; emulate sh -c 'COMP_WORDS=(tartan lab up --backend ""); COMP_CWORD=4; _tartan; printf "%s\\n" "\${COMPREPLY[@]}"'`,
      ],
      { allowFailure: true, timeoutMs: 10_000 },
    );
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual([...ROUTING_BACKENDS].sort());
  });
});
