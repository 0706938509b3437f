// Issue 12 point 4 with the real binary and the real kernel: each bad input refused with its
// code, before anything is touched, and nothing left behind; DEL of a config ADD refuses
// succeeds and removes what an older version left. The plugin runs in a private "host" namespace
// (never the machine's); the logic of each refusal is unit-tested in test/unit/cni-bad-inputs.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostVethName } from "../../src/cni/host-veth-name.ts";
import { type Answer, type FuzzBed, invokeRaw, leftovers } from "../harness/cni-fuzz.ts";
import { cleanupAllNetns, createNetns, isRoot } from "../harness/netns.ts";
import { privatePluginBin } from "../harness/tartan-binary.ts";

let bed: FuzzBed;

function conf(o: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion: "1.1.0",
    name: "bad",
    type: "tartan",
    bridge: "ttbad0",
    ipMasq: true,
    dataDir: join(bed.dir, "state"),
    ipam: { type: "tartan-ipam", ranges: [[{ subnet: "10.67.0.0/24" }]], dataDir: join(bed.dir, "ipam") },
    ...o,
  };
}

function env(command: string, o: Record<string, string> = {}): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: "badctr",
    CNI_NETNS: bed.pod.path,
    CNI_IFNAME: "eth0",
    CNI_PATH: `${bed.bin}:/usr/lib/cni`,
    ...o,
  };
}

function refused(a: Answer, code: number): string {
  expect({ exit: a.code, code: (JSON.parse(a.stdout || "{}") as { code?: number }).code }).toEqual({
    exit: 1,
    code,
  });
  expect(a.stdout).not.toMatch(/\n\s+at |\.ts:\d+/);
  return String((JSON.parse(a.stdout) as { msg: string }).msg);
}

/** Host links other than lo, and what else leftovers() finds. */
async function hostState(): Promise<string[]> {
  const links = JSON.parse((await bed.host.exec(["ip", "-j", "link", "show"])).stdout) as {
    ifname: string;
  }[];
  return [...links.map((l) => l.ifname).filter((n) => n !== "lo"), ...(await leftovers(bed))].sort();
}

describe.skipIf(!isRoot)("bad inputs, real binary, private host namespace", () => {
  beforeAll(async () => {
    const bin = await privatePluginBin("tt-bad-bin-");
    bed = {
      bin,
      dir: mkdtempSync(join(tmpdir(), "tt-bad-")),
      host: await createNetns("bdh"),
      pod: await createNetns("bdp"),
    };
  }, 300_000);

  afterEach(async () => {
    for (const n of ["ttbad0", "ethx0"])
      await bed.host.exec(["ip", "link", "del", n], { allowFailure: true });
    await bed.host.exec(["nft", "delete", "table", "inet", "tartan"], { allowFailure: true });
  });

  afterAll(async () => {
    await cleanupAllNetns();
    if (bed) {
      rmSync(bed.dir, { recursive: true, force: true });
      rmSync(bed.bin, { recursive: true, force: true });
    }
  });

  test("bridge naming an existing veth: 7, its addresses untouched, nothing created", async () => {
    await bed.host.exec(["ip", "link", "add", "ethx0", "type", "veth", "peer", "name", "ethx1"]);
    const before = await hostState();
    const msg = refused(await invokeRaw(bed, env("ADD"), JSON.stringify(conf({ bridge: "ethx0" }))), 7);
    expect(msg).toContain("ethx0 exists and is not a bridge");
    const addrs = JSON.parse((await bed.host.exec(["ip", "-j", "addr", "show", "dev", "ethx0"])).stdout);
    expect(addrs[0].addr_info).toEqual([]);
    expect(await hostState()).toEqual(before);
    expect((await invokeRaw(bed, env("DEL"), JSON.stringify(conf({ bridge: "ethx0" })))).code).toBe(0);
  }, 60_000);

  test("CNI_NETNS that is the plugin's own namespace (by another path too): 4, nothing created", async () => {
    for (const netns of ["/proc/self/ns/net", bed.host.path, "/proc/thread-self/ns/net"]) {
      const msg = refused(await invokeRaw(bed, env("ADD", { CNI_NETNS: netns }), JSON.stringify(conf())), 4);
      expect(msg).toContain("namespace the plugin runs in");
      expect(await hostState()).toEqual([]);
    }
  }, 60_000);

  // 120: the nft comment overflows (ADD failed with 100); 250: the marker file name overflows
  // too (ENAMETOOLONG: ADD and every DEL failed with 999 before the limit).
  for (const length of [120, 250]) {
    test(`network name of ${length} characters: ADD 7 naming the limit; DEL exits 0 and removes an old leftover`, async () => {
      const long = "n".repeat(length);
      const msg = refused(await invokeRaw(bed, env("ADD"), JSON.stringify(conf({ name: long }))), 7);
      expect(msg).toMatch(/^name: .*at most 100/);
      expect(await hostState()).toEqual([]);
      // What an ADD before the limit left: the host veth (its name is a hash of the network name).
      const veth = hostVethName(long, "badctr", "eth0");
      await bed.host.exec([
        "ip",
        "link",
        "add",
        veth,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        bed.pod.path,
      ]);
      const del = await invokeRaw(bed, env("DEL"), JSON.stringify(conf({ name: long })));
      expect({ code: del.code, stdout: del.stdout }).toEqual({ code: 0, stdout: "" });
      expect(await hostState()).toEqual([]);
      expect((await invokeRaw(bed, env("DEL"), JSON.stringify(conf({ name: long })))).code).toBe(0);
    }, 60_000);
  }

  test("interface names with characters tools choke on: 4 / 7 with the grammar", async () => {
    for (const name of ["a%b", 'a"b', "a b"]) {
      expect(
        refused(await invokeRaw(bed, env("ADD", { CNI_IFNAME: name }), JSON.stringify(conf())), 4),
      ).toContain("[A-Za-z0-9_.-]");
      expect(refused(await invokeRaw(bed, env("ADD"), JSON.stringify(conf({ bridge: name }))), 7)).toContain(
        "[A-Za-z0-9_.-]",
      );
    }
    expect(await hostState()).toEqual([]);
  }, 60_000);

  test("relative dataDir, ipam.type naming the plugin: 7; DEL with them exits 0", async () => {
    const bad = [
      conf({ dataDir: "state" }),
      conf({ ipam: { type: "tartan-ipam", ranges: [[{ subnet: "10.67.0.0/24" }]], dataDir: "ipam" } }),
      conf({ ipam: { type: "tartan" } }),
    ];
    for (const c of bad) {
      refused(await invokeRaw(bed, env("ADD"), JSON.stringify(c)), 7);
      expect((await invokeRaw(bed, env("DEL"), JSON.stringify(c))).code).toBe(0);
    }
    expect(await hostState()).toEqual([]);
  }, 60_000);

  test("stdin over 1 MiB: 6; CNI_COMMAND empty or unknown: 4 listing the verbs, not the CLI", async () => {
    const big = JSON.stringify(conf({ pad: "x".repeat(2 * 1024 * 1024) }));
    expect(refused(await invokeRaw(bed, env("ADD"), big), 6)).toContain("larger than 1048576 bytes");
    for (const command of ["", "add", "HELP"]) {
      const a = await invokeRaw(bed, env(command), JSON.stringify(conf()));
      expect(refused(a, 4)).toContain("ADD, DEL, CHECK, STATUS, GC, VERSION");
    }
    // the standalone tartan-ipam too
    const ipam = await invokeRaw(bed, env(""), JSON.stringify(conf()), "tartan-ipam");
    refused(ipam, 4);
    expect(await hostState()).toEqual([]);
  }, 60_000);
});
