// Issue 12 point 4: every bad input to the plugin is refused with a coded error, before anything
// is touched, and leaves nothing behind; DEL always succeeds; no stack trace ever reaches stdout.
// Logic with the fake deps; the real-kernel cases are in test/integration/cni-bad-inputs.test.ts.
import { describe, expect, test } from "bun:test";
import { hostVethName } from "../../src/cni/host-veth-name.ts";
import { MAX_STDIN_BYTES, readCniStdin } from "../../src/cni/read-cni-stdin.ts";
import { runCni } from "../../src/cni/run-cni.ts";
import { CNI_CODE_OF } from "../../src/cni/to-cni-error.ts";
import { MAX_NETWORK_NAME } from "../../src/model/net-conf.ts";
import { FakeCni, type Invocation, tartanConf } from "../harness/fake-cni-deps.ts";

const DIR = "/fake/ipam";
type Json = Record<string, unknown>;

/** Nothing of the attachment left: no host veth, no reservation, no record, no chain. */
async function expectNothingLeft(cni: FakeCni, network = "net1"): Promise<void> {
  expect(await cni.hostVeths()).toEqual([]);
  expect(cni.reservations(DIR, network)).toEqual([]);
  expect(cni.attachments(DIR, network)).toEqual([]);
  expect((await cni.nft.list(null, "inet", "tartan")) ?? "").not.toContain("masq-");
}

function expectCoded(out: { exitCode: number; json: Json | undefined; stdout: string }, code: number): Json {
  expect(out.exitCode).toBe(1);
  expect(out.json?.code).toBe(code);
  expect(typeof out.json?.msg).toBe("string");
  expect(out.stdout).not.toMatch(/\n\s+at |\.ts:\d+/);
  expect(String(out.json?.msg)).not.toContain("\n");
  return out.json!;
}

async function add(cni: FakeCni, conf: unknown, inv: Partial<Invocation> = {}) {
  return cni.invoke(
    { command: "ADD", netns: cni.netns(`p${Math.random().toString(16).slice(2, 8)}`), ...inv },
    conf,
  );
}

describe("bridge naming an interface that is not a bridge", () => {
  test("refused with 7 (cni-not-a-bridge) before the gateway address is put on it", async () => {
    const cni = new FakeCni();
    const pod = cni.netns("other");
    await cni.dp.apply(null, [{ op: "veth-add", name: "eth0", peer: "eth0p", peerNetns: pod, mtu: 1500 }]);
    const before = JSON.stringify(await cni.dp.addrs(null));
    const out = await add(cni, { ...tartanConf({ ipMasq: true }), bridge: "eth0" });
    const err = expectCoded(out, CNI_CODE_OF["cni-not-a-bridge"]);
    expect(err.msg).toContain("eth0 exists and is not a bridge");
    expect(JSON.stringify(await cni.dp.addrs(null))).toBe(before);
    expect((await cni.linkNames(null)).filter((n) => n !== "lo")).toEqual(["eth0"]);
    await expectNothingLeft(cni);
  });

  test("an existing bridge is used as before", async () => {
    const cni = new FakeCni();
    await cni.dp.apply(null, [{ op: "bridge-add", name: "br9" }]);
    const out = await add(cni, { ...tartanConf(), bridge: "br9" });
    expect(out.exitCode).toBe(0);
  });
});

describe("names too long for a kernel or nft object", () => {
  const long = "n".repeat(MAX_NETWORK_NAME + 1);

  test("network name: ADD refused with 7 naming the field and the limit", async () => {
    const cni = new FakeCni();
    const err = expectCoded(await add(cni, tartanConf({ name: long, ipMasq: true })), 7);
    expect(err.msg).toContain("name:");
    expect(err.msg).toContain(`at most ${MAX_NETWORK_NAME}`);
    await expectNothingLeft(cni, long);
    expect((await add(cni, tartanConf({ name: "n".repeat(MAX_NETWORK_NAME) }))).exitCode).toBe(0);
  });

  test("bridge longer than 15 bytes: 7 naming bridge and 15", async () => {
    const cni = new FakeCni();
    const err = expectCoded(await add(cni, { ...tartanConf(), bridge: "b".repeat(16) }), 7);
    expect(err.msg).toMatch(/^bridge: .*at most 15/);
    await expectNothingLeft(cni);
  });

  test("CNI_IFNAME longer than 15 bytes: 4 naming it", async () => {
    const cni = new FakeCni();
    const err = expectCoded(await add(cni, tartanConf(), { ifname: "e".repeat(16) }), 4);
    expect(err.msg).toContain("CNI_IFNAME");
    await expectNothingLeft(cni);
  });

  test("DEL with a config ADD refuses succeeds and removes what an older version left", async () => {
    const cni = new FakeCni();
    const conf = tartanConf({ name: long, ipMasq: true });
    // What an ADD before the limit left: the host veth, a reservation, the record.
    const veth = hostVethName(long, "ctr1", "eth0");
    const pod = cni.netns("old");
    await cni.dp.apply(null, [{ op: "veth-add", name: veth, peer: "eth0", peerNetns: pod, mtu: 1500 }]);
    cni.store(DIR).transaction((tx) => {
      tx.reserve({ network: long, ip: "10.88.0.2", containerId: "ctr1", ifname: "eth0", rangeKey: "r0" });
      tx.putAttachment({
        network: long,
        containerId: "ctr1",
        ifname: "eth0",
        netns: pod,
        hostIfname: veth,
        result: "",
        createdAt: 1,
      });
    });
    const out = await cni.invoke({ command: "DEL", netns: pod }, conf);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe("");
    expect(await cni.hostVeths()).toEqual([]);
    expect(cni.reservations(DIR, long)).toEqual([]);
    expect(cni.attachments(DIR, long)).toEqual([]);
    // and again: DEL is idempotent
    expect((await cni.invoke({ command: "DEL" }, conf)).exitCode).toBe(0);
  });

  test("DEL with any config ADD refuses exits 0 (relative dataDir, self ipam, bad ranges)", async () => {
    const cni = new FakeCni();
    const bad: Json[] = [
      tartanConf({ dataDir: "relative/dir" }),
      { ...tartanConf(), ipam: { type: "tartan" } },
      tartanConf({ ranges: [[{ subnet: "not-a-cidr" }]] }),
      { ...tartanConf(), bridge: "a b" },
    ];
    for (const conf of bad) {
      expect((await add(cni, conf)).exitCode).toBe(1);
      const del = await cni.invoke({ command: "DEL" }, conf);
      expect({ conf, exit: del.exitCode, out: del.stdout }).toEqual({ conf, exit: 0, out: "" });
    }
    // A relative dataDir is never opened, not even to clean up.
    expect([...cni.stores.keys()].some((d) => !d.startsWith("/"))).toBe(false);
  });
});

describe("delegation: ipam.type naming the plugin, and depth", () => {
  test('ipam.type "tartan" or the plugin\'s own type: 7, no plugin run', async () => {
    const cni = new FakeCni();
    cni.plugins.set("tartan", () => ({ code: 0, stdout: "{}", stderr: "" }));
    for (const conf of [
      { ...tartanConf(), ipam: { type: "tartan" } },
      { ...tartanConf(), type: "mycni", ipam: { type: "mycni" } },
    ]) {
      const err = expectCoded(await add(cni, conf), 7);
      expect(err.msg).toContain("ipam.type");
      expect(err.msg).toContain("itself");
    }
    expect(cni.pluginCalls).toEqual([]);
  });

  test("delegates get the depth + 1; a call deeper than the limit is refused with 7", async () => {
    const cni = new FakeCni();
    const hostLocal = {
      ...tartanConf(),
      ipam: { type: "host-local", ranges: [[{ subnet: "10.9.0.0/24" }]] },
    };
    cni.plugins.set("host-local", () => ({
      code: 0,
      stdout: JSON.stringify({ cniVersion: "1.1.0", ips: [{ address: "10.9.0.2/24" }] }),
      stderr: "",
    }));
    expect((await add(cni, hostLocal)).exitCode).toBe(0);
    expect(cni.pluginCalls[0]?.env.TARTAN_DELEGATION_DEPTH).toBe("1");
    const deep = await add(cni, hostLocal, { containerId: "c2", env: { TARTAN_DELEGATION_DEPTH: "2" } });
    expect(deep.exitCode).toBe(0);
    expect(cni.pluginCalls.at(-1)?.env.TARTAN_DELEGATION_DEPTH).toBe("3");
    const calls = cni.pluginCalls.length;
    const err = expectCoded(
      await add(cni, hostLocal, { containerId: "c3", env: { TARTAN_DELEGATION_DEPTH: "4" } }),
      7,
    );
    expect(err.msg).toContain("calls deep");
    expect(cni.pluginCalls.length).toBe(calls);
    // the standalone tartan-ipam too
    const ipamErr = await cni.invokeIpam(
      { command: "ADD", netns: cni.netns("q"), env: { TARTAN_DELEGATION_DEPTH: "9" } },
      tartanConf(),
    );
    expectCoded(ipamErr, 7);
  });
});

describe("CNI_NETNS resolving to the plugin's own namespace", () => {
  test("ADD and CHECK refuse it with 4; nothing is reserved or created", async () => {
    const cni = new FakeCni();
    const err = expectCoded(await add(cni, tartanConf(), { netns: "/proc/self/ns/net" }), 4);
    expect(err.msg).toContain("namespace the plugin runs in");
    await expectNothingLeft(cni);
    expect((await cni.linkNames(null)).filter((n) => n === "tartan0")).toEqual([]);
    const check = await cni.invoke(
      { command: "CHECK", netns: "/proc/self/ns/net" },
      { ...tartanConf(), prevResult: { cniVersion: "1.1.0", interfaces: [], ips: [] } },
    );
    expectCoded(check, 4);
  });
});

describe("interface names the kernel takes but tools do not", () => {
  const bad = [
    "a b",
    "a/b",
    "a:b",
    'a"b',
    "a'b",
    "a\tb",
    "a\nb",
    "a%b",
    "a@b",
    "-eth0",
    ".x",
    "..",
    "é",
    "a\u0001",
  ];

  for (const name of bad) {
    test(`${JSON.stringify(name)}: CNI_IFNAME → 4, bridge → 7, with the grammar`, async () => {
      const cni = new FakeCni();
      const e1 = expectCoded(await add(cni, tartanConf(), { ifname: name }), 4);
      expect(e1.msg).toContain("[A-Za-z0-9_.-]");
      const e2 = expectCoded(await add(cni, { ...tartanConf(), bridge: name }), 7);
      expect(e2.msg).toContain("[A-Za-z0-9_.-]");
      await expectNothingLeft(cni);
    });
  }

  test("ordinary names still pass", async () => {
    const cni = new FakeCni();
    for (const [i, ifname] of ["eth0", "net1", "_x", "e.1-a_b"].entries()) {
      expect((await add(cni, tartanConf(), { ifname, containerId: `c${i}` })).exitCode).toBe(0);
    }
  });
});

describe("relative data directories", () => {
  for (const [field, conf] of [
    ["ipam.dataDir", tartanConf({ dataDir: "var/ipam" })],
    ["dataDir", { ...tartanConf(), dataDir: "./state" }],
  ] as const) {
    test(`${field} relative: 7 naming it; nothing opened`, async () => {
      const cni = new FakeCni();
      const err = expectCoded(await add(cni, conf), 7);
      expect(err.msg).toContain(`${field}:`);
      expect(err.msg).toContain("absolute path");
      expect([...cni.stores.keys()]).toEqual([]);
    });
  }

  test("tartan-ipam alone refuses it too", async () => {
    const cni = new FakeCni();
    const err = expectCoded(
      await cni.invokeIpam({ command: "ADD", netns: cni.netns("q") }, tartanConf({ dataDir: "x" })),
      7,
    );
    expect(err.msg).toContain("ipam.dataDir");
  });
});

describe("stdin larger than 1 MiB", () => {
  test("runCni refuses it with 6", async () => {
    const cni = new FakeCni();
    const conf = { ...tartanConf(), pad: "x".repeat(MAX_STDIN_BYTES) };
    const err = expectCoded(await add(cni, conf), 6);
    expect(err.msg).toContain(`larger than ${MAX_STDIN_BYTES} bytes`);
    await expectNothingLeft(cni);
  });

  test("readCniStdin stops reading at the limit (one chunk beyond at most)", async () => {
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(chunk);
      },
    });
    await expect(readCniStdin(endless)).rejects.toMatchObject({ code: "cni-stdin-too-large" });
    expect(pulled).toBeLessThanOrEqual(MAX_STDIN_BYTES / chunk.length + 2);
    const small = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"a":'));
        c.enqueue(new TextEncoder().encode("1}"));
        c.close();
      },
    });
    expect(await readCniStdin(small)).toBe('{"a":1}');
  });

  test("through runCni with a reader: 6 as JSON, like a string", async () => {
    const cni = new FakeCni();
    const env = cni.envFor({ command: "ADD", netns: cni.netns("r") });
    const out = await runCni(cni.deps, env, () => Promise.reject(new (class extends Error {})("x")));
    expect(out.exitCode).toBe(1);
    const big = await runCni(cni.deps, env, () =>
      readCniStdin(new Blob(["x".repeat(MAX_STDIN_BYTES + 10)]).stream()),
    );
    expect(JSON.parse(big.stdout).code).toBe(6);
  });
});

describe("CNI_COMMAND empty or unknown", () => {
  for (const command of ["", "add", "FOO", "ADD "]) {
    test(`${JSON.stringify(command)}: 4 listing the verbs`, async () => {
      const cni = new FakeCni();
      const out = await cni.invoke({ command: "ADD", env: { CNI_COMMAND: command } }, tartanConf());
      const err = expectCoded(out, 4);
      expect(err.msg).toContain("ADD, DEL, CHECK, STATUS, GC, VERSION");
      const ipam = await cni.invokeIpam({ command: "ADD", env: { CNI_COMMAND: command } }, tartanConf());
      expectCoded(ipam, 4);
    });
  }
});

describe("internal errors: 999, one line, a hint, no stack on stdout", () => {
  const bug = () => {
    const e = new TypeError("cannot read properties of undefined\nsecond line");
    e.stack =
      "TypeError: cannot read\n    at boom (/src/cni/cmd-add.ts:12:3)\n    at main (/src/main.ts:1:1)";
    return e;
  };

  test("plugin: the stack goes to the log, not to msg or details", async () => {
    const cni = new FakeCni();
    cni.dp.apply = async () => {
      throw bug();
    };
    const err = expectCoded(await add(cni, tartanConf()), 999);
    expect(err.msg).toBe("internal error: cannot read properties of undefined");
    expect(String(err.details)).toContain("this is a bug in tartan");
    expect(String(err.details)).not.toMatch(/ at |\.ts:/);
    expect(JSON.stringify(cni.logs)).toContain("cmd-add.ts:12:3");
    await expectNothingLeft(cni);
  });

  test("tartan-ipam: same", async () => {
    const cni = new FakeCni();
    cni.storeFailure = bug();
    const err = expectCoded(
      await cni.invokeIpam({ command: "ADD", netns: cni.netns("q") }, tartanConf()),
      999,
    );
    expect(String(err.details)).not.toMatch(/ at |\.ts:/);
  });

  test("a delegate printing a stack: the stack stays out of msg and details", async () => {
    const cni = new FakeCni();
    cni.plugins.set("host-local", () => ({
      code: 2,
      stdout: "panic: oh no\ngoroutine 1 [running]:\nmain.main()\n\t/src/x.go:12\n    at f (/x.ts:1:1)",
      stderr: "",
    }));
    const conf = { ...tartanConf(), ipam: { type: "host-local", ranges: [[{ subnet: "10.9.0.0/24" }]] } };
    const err = expectCoded(await add(cni, conf), 103);
    expect(String(err.details)).not.toMatch(/\s+at |\.ts:\d|goroutine/);
  });
});
