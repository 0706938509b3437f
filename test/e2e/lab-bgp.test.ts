// The bgp backend end to end on the lab: real etcd, real agents, real BIRD on every node, a real
// FRR top-of-rack router (zebra + bgpd in the lab's fabric namespace), driven through the CLI.
//  - full mesh of 3 nodes, dual-stack, with the ToR (TCP-MD5 password) and the outside host:
//    every pod pair reachable, every node's kernel holding exactly the other nodes' blocks
//    (IPv4 and IPv6 over the same sessions), the ToR learning every block (vtysh JSON), the outside
//    host reaching every pod without NAT; a new pod in a new block advertised (measured and
//    printed: the requirement is 1 s, the test bound has a margin for a loaded machine); bird
//    SIGKILLed and restarted by its agent while a TCP connection across nodes keeps working;
//    a removed node's blocks withdrawn from every node and the ToR;
//  - 2 route reflectors with the mesh off (5 nodes): clients have sessions to the reflectors only,
//    every pod pair reachable, tables exact;
//  - full mesh of 10 nodes (about 10 s on a quiet machine).
// One lab at a time, removed in afterAll also when a test failed. Needs root, etcd, bird and FRR:
// skipped, with the reason printed, otherwise.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { run } from "../../src/exec/run.ts";
import type { LabListing } from "../../src/lab/lab-ls.ts";
import type { LabState } from "../../src/lab/lab-state.ts";
import { processStartTime } from "../../src/lab/process-start-time.ts";
import { type TorRoutes, torVtyshArgv } from "../../src/lab/tor-vtysh.ts";
import { eventually } from "../harness/eventually.ts";
import { isRoot } from "../harness/netns.ts";
import { privateTartanBin } from "../harness/tartan-binary.ts";

const T = 180_000;
const PINGPONG = join(import.meta.dir, "../fixtures/tcp-pingpong.ts");
const TCP_ONCE = join(import.meta.dir, "../fixtures/tcp-once.ts");
const has = async (argv: string[]) =>
  isRoot && (await run(argv, { allowFailure: true }).catch(() => null))?.code === 0;
const missing = !isRoot
  ? "needs root"
  : !(await has(["etcd", "--version"]))
    ? "no etcd binary"
    : !(await has(["bird", "--version"]))
      ? "no bird (bird2)"
      : !existsSync("/usr/lib/frr/bgpd")
        ? "no FRR (frr)"
        : undefined;
const bin = missing ? "" : await privateTartanBin("tartan-bgp-test-");
const tartan = `${bin}/tartan`;
if (missing) console.warn(`lab-bgp: skipped (${missing})`);

let current: string | undefined;
const spawned = new Set<Subprocess>();

/** `tartan lab ARGS --lab NAME` (before a `--`, after which the arguments are CMD's). */
async function lab(name: string, args: string[], allowFailure = false) {
  const dash = args.indexOf("--");
  const full =
    dash < 0 ? [...args, "--lab", name] : [...args.slice(0, dash), "--lab", name, ...args.slice(dash)];
  return await run([tartan, "lab", ...full], { allowFailure, timeoutMs: 150_000 });
}
const state = (name: string): LabState =>
  JSON.parse(readFileSync(`/run/tartan-lab/${name}/lab.json`, "utf8")) as LabState;

async function up(name: string, args: string[]): Promise<void> {
  current = name;
  const t0 = performance.now();
  await lab(name, ["up", "--backend", "bgp", ...args]);
  console.log(`lab-bgp: ${name} up (${args.join(" ")}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // lab up returns once every session is Established (it used to return ~2 s before, at 3 nodes).
  const bgp = await run([tartan, "bgp", "status", "--lab", name, "-o", "json"], { allowFailure: true });
  const nodes = (JSON.parse(bgp.stdout) as { nodes: { name: string; verdict: string }[] }).nodes;
  expect(nodes.filter((n) => !n.verdict.startsWith("ok:"))).toEqual([]);
  expect(bgp.code).toBe(0);
}

/** `lab down`, then nothing of the lab is left: namespaces, recorded processes (ToR too), its dir. */
async function down(name: string): Promise<void> {
  let procs: { pid: number; startTime: string }[] = [];
  try {
    const s = state(name);
    procs = [
      ...(s.etcd ? [s.etcd] : []),
      ...(s.tor?.zebra ? [s.tor.zebra] : []),
      ...(s.tor?.bgpd ? [s.tor.bgpd] : []),
      ...s.nodes.flatMap((n) => (n.agent ? [n.agent] : [])),
    ];
  } catch {}
  const r = await lab(name, ["down"], true);
  current = undefined;
  expect(r.code).toBe(0);
  expect(readdirSync("/run/netns").filter((n) => n.startsWith(`tl-${name}-`))).toEqual([]);
  expect(procs.filter((p) => processStartTime(p.pid) === p.startTime)).toEqual([]);
  expect(existsSync(`/run/tartan-lab/${name}`)).toBe(false);
}

afterAll(async () => {
  for (const p of spawned) p.kill("SIGKILL");
  if (current) await lab(current, ["down"], true);
  if (bin) rmSync(bin, { recursive: true, force: true });
}, T);

/**
 * From every pod to every other pod's addresses: a ping each, and TCP to each responder from one
 * `tartan lab probe` per source pod (the answer must name the pod meant). Lighter than `lab matrix`
 * (a process per cell), which times out on a loaded 2-core machine. Returns what failed.
 */
async function unreachable(name: string): Promise<string[]> {
  const pods = state(name).pods.filter((p) => p.state === "ready");
  const bad: string[] = [];
  await Promise.all(
    pods.map(async (a) => {
      const targets = pods
        .filter((b) => b !== a)
        .flatMap((b) => b.ips.map((c) => ({ b, ip: c.split("/")[0]! })));
      for (const t of targets) {
        const r = await run(
          ["ip", "netns", "exec", a.netns, "ping", "-n", "-q", "-c", "1", "-W", "2", t.ip],
          {
            allowFailure: true,
          },
        );
        if (r.code !== 0) bad.push(`${a.name} -> ${t.b.name} ${t.ip}: no ping reply`);
      }
      const r = await run(
        [
          "ip",
          "netns",
          "exec",
          a.netns,
          tartan,
          "lab",
          "probe",
          "tcp",
          targets.map((t) => t.ip).join(","),
          "8080",
          "--timeout-ms",
          "3000",
        ],
        { allowFailure: true, timeoutMs: 60_000 },
      );
      const answers = new Map(
        r.stdout
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { host: string; answer?: string })
          .map((x) => [x.host, x.answer]),
      );
      for (const t of targets) {
        if (answers.get(t.ip) !== `tartan-lab ${t.b.namespace}/${t.b.name}`)
          bad.push(`${a.name} -> ${t.b.name} ${t.ip}: TCP ${answers.get(t.ip) ?? r.stderr.trim()}`);
      }
    }),
  );
  return bad;
}

async function expectAllReachable(name: string, timeoutMs: number): Promise<void> {
  const bad = await eventually("every pod reaching every other pod", () => unreachable(name), {
    timeoutMs,
    intervalMs: 500,
    until: (b) => b.length === 0,
    onTimeout: "last",
  });
  expect(bad).toEqual([]);
}

/** Every node's blocks as the cluster sees them (lab ls: the datastore through an agent). */
async function blocksByNode(name: string): Promise<Map<string, string[]>> {
  const l = JSON.parse((await lab(name, ["ls", "-o", "json"])).stdout) as LabListing;
  return new Map(l.nodes.map((n) => [n.name, n.blocks ?? []]));
}

/** The routes BIRD installed in a node's kernel (proto bird), blackholes (its own blocks) apart. */
async function birdRoutes(netns: string): Promise<{ remote: string[]; own: string[] }> {
  const out = { remote: [] as string[], own: [] as string[] };
  for (const fam of ["-4", "-6"]) {
    const r = await run(["ip", "-n", netns, "-j", fam, "route", "show", "proto", "bird"]);
    for (const x of JSON.parse(r.stdout || "[]") as { dst: string; type?: string }[]) {
      (x.type === "blackhole" ? out.own : out.remote).push(x.dst);
    }
  }
  out.remote.sort();
  out.own.sort();
  return out;
}

/** Each node's kernel holds exactly the other nodes' blocks from BIRD (and its own as blackholes). */
async function expectExactTables(name: string, timeoutMs = 20_000): Promise<void> {
  const s = state(name);
  await eventually(
    "every node's kernel = the other nodes' blocks",
    async () => {
      const blocks = await blocksByNode(name);
      const wrong: string[] = [];
      for (const n of s.nodes) {
        const want = [...blocks.entries()]
          .filter(([k]) => k !== n.name)
          .flatMap(([, b]) => b)
          .sort();
        const got = await birdRoutes(n.netns);
        if (JSON.stringify(got.remote) !== JSON.stringify(want))
          wrong.push(`${n.name}: has ${got.remote.join(",")} wants ${want.join(",")}`);
      }
      return wrong.length === 0 ? true : (wrong.join("; ") as unknown as false);
    },
    { timeoutMs, intervalMs: 250, until: (v) => v === true },
  );
}

async function torRoutes(name: string): Promise<string[]> {
  const tor = state(name).tor!;
  const out: string[] = [];
  for (const fam of ["ipv4", "ipv6"]) {
    const r = await run(torVtyshArgv(tor, [`show bgp ${fam} unicast json`]));
    const j = JSON.parse(r.stdout) as TorRoutes;
    out.push(
      ...Object.entries(j.routes ?? {})
        .filter(([, paths]) => paths.some((p) => p.valid))
        .map(([k]) => k),
    );
  }
  return out.sort();
}

function spawn(argv: string[]): Subprocess<"ignore", "pipe", "pipe"> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  spawned.add(p);
  return p;
}

const birdPid = (name: string, node: string): number | undefined => {
  try {
    const n = state(name).nodes.find((x) => x.name === node)!;
    const pid = Number(readFileSync(`${n.dir}/bird/bird.pid`, "utf8").trim());
    return processStartTime(pid) !== undefined ? pid : undefined;
  } catch {
    return undefined;
  }
};

describe.skipIf(missing !== undefined)(
  "bgp: full mesh of 3 nodes, dual-stack, FRR ToR with a password, outside host",
  () => {
    const name = `bgpm${Math.random().toString(36).slice(2, 8)}`;
    beforeAll(async () => {
      // --block-size 30: every pod is a fresh block, so a new pod means a new advertisement.
      await up(name, ["--nodes", "3", "--ipv6", "--tor", "--tor-password", "s3cret", "--block-size", "30"]);
      // One after the other: parallel adds time out against etcd on a loaded 2-core machine.
      for (let i = 1; i <= 3; i++) await lab(name, ["pod", "add", `node-${i}`, `p${i}`]);
    }, T);

    test(
      "every pod pair reachable (IPv4 and IPv6); every node's table = exactly the other nodes' blocks",
      async () => {
        await expectAllReachable(name, 30_000);
        expect(state(name).pods.every((p) => p.ips.some((ip) => ip.includes(":")))).toBe(true);
        await expectExactTables(name);
        // IPv6 blocks travel too (over the same IPv4 sessions)
        const r = await birdRoutes(state(name).nodes[0]!.netns);
        expect(r.remote.some((d) => d.includes(":"))).toBe(true);
      },
      T,
    );

    test(
      "the ToR learned every block (vtysh JSON) and the outside host reaches every pod, without NAT",
      async () => {
        const blocks = [...(await blocksByNode(name)).values()].flat().sort();
        await eventually("the ToR holds every block", async () => JSON.stringify(await torRoutes(name)), {
          timeoutMs: 20_000,
          intervalMs: 250,
          until: (v) => v === JSON.stringify(blocks),
        });
        const s = state(name);
        for (const p of s.pods) {
          for (const cidr of p.ips) {
            const ip = cidr.split("/")[0]!;
            const ping = await lab(name, ["exec", "outside", "--", "ping", "-c", "1", "-W", "2", ip], true);
            expect({ ip, code: ping.code }).toEqual({ ip, code: 0 });
          }
          // No NAT: the pod sees the outside host's own address as the source of a connection.
          const ip4 = p.ips.find((c) => !c.includes(":"))!.split("/")[0]!;
          const srv = spawn([
            "ip",
            "netns",
            "exec",
            p.netns,
            process.execPath,
            "-e",
            "const s=require('node:net').createServer(c=>c.end(c.remoteAddress+'\\n',()=>s.close()));s.listen(9091,'::')",
          ]);
          const seen = await run([
            "ip",
            "netns",
            "exec",
            s.outside!.netns,
            process.execPath,
            TCP_ONCE,
            "client",
            ip4,
            "9091",
          ]);
          await srv.exited;
          spawned.delete(srv);
          expect(seen.stdout.trim().replace(/^::ffff:/, "")).toBe(s.outside!.address);
        }
      },
      T,
    );

    test(
      "a new pod in a new block is advertised to every node and the ToR (requirement 1 s, measured and printed; bound 15 s)",
      async () => {
        const s = state(name);
        const others = s.nodes.filter((n) => n.name !== "node-1");
        const before = new Set((await blocksByNode(name)).get("node-1"));
        const t0 = performance.now();
        const added = await lab(name, ["pod", "add", "node-1", "fresh", "-o", "json"]);
        const tAdded = performance.now();
        const ip = (JSON.parse(added.stdout) as { ips: string[] }).ips[0]!.split("/")[0]!;
        const block = await eventually(
          "the new pod's block in the datastore",
          async () =>
            [...((await blocksByNode(name)).get("node-1") ?? [])].find(
              (b) => !before.has(b) && !b.includes(":"),
            ),
          { timeoutMs: 10_000, intervalMs: 20, found: true },
        );
        expect(ip.startsWith(block.split(".").slice(0, 3).join("."))).toBe(true);
        // Poll every other node's kernel and the ToR in parallel until each holds the block.
        const seenAt = await Promise.all([
          ...others.map(async (n) => {
            await eventually(
              `${block} on ${n.name}`,
              async () => (await birdRoutes(n.netns)).remote.includes(block),
              { timeoutMs: 15_000, intervalMs: 10, until: (v) => v },
            );
            return performance.now();
          }),
          (async () => {
            await eventually(`${block} on the ToR`, async () => (await torRoutes(name)).includes(block), {
              timeoutMs: 15_000,
              intervalMs: 10,
              until: (v) => v,
            });
            return performance.now();
          })(),
        ]);
        const last = Math.max(...seenAt);
        console.log(
          `lab-bgp: new block ${block} everywhere ${(last - tAdded).toFixed(0)} ms after the pod ADD returned ` +
            `(${(last - t0).toFixed(0)} ms after it started; ADD ${(tAdded - t0).toFixed(0)} ms)`,
        );
        // The 1 s requirement is asserted in the benchmark; an occasional ~7 s advertisement was seen
        // (notes/bgp-lab-findings.md 1), so the bound only catches a block that never comes.
        expect(last - tAdded).toBeLessThan(15_000);
      },
      T,
    );

    test(
      "bird SIGKILLed: its agent restarts it, routes stay, a TCP connection across nodes keeps working",
      async () => {
        const s = state(name);
        const server = s.pods.find((p) => p.name === "p2")!;
        const serverIp = server.ips.find((c) => !c.includes(":"))!.split("/")[0]!;
        spawn(["ip", "netns", "exec", server.netns, process.execPath, PINGPONG, "server", "9090"]);
        const client = spawn([
          "ip",
          "netns",
          "exec",
          s.pods.find((p) => p.name === "p1")!.netns,
          process.execPath,
          PINGPONG,
          "client",
          serverIp,
          "9090",
          "100",
        ]);
        const lines: string[] = [];
        void (async () => {
          const dec = new TextDecoder();
          let buf = "";
          for await (const chunk of client.stdout) {
            buf += dec.decode(chunk);
            const parts = buf.split("\n");
            buf = parts.pop()!;
            lines.push(...parts);
          }
        })();
        type Status = { sent: number; received: number; maxGapMs: number; error?: string };
        const last = (): Status | undefined => (lines.length ? JSON.parse(lines.at(-1)!) : undefined);
        await eventually(
          "the TCP exchange running",
          () => ((last()?.received ?? 0) >= 5 ? last() : undefined),
          {
            timeoutMs: 15_000,
            intervalMs: 100,
            found: true,
          },
        );
        const n1 = s.nodes.find((n) => n.name === "node-1")!;
        const routesBefore = await birdRoutes(n1.netns);
        const old = birdPid(name, "node-2");
        expect(old).toBeDefined();
        process.kill(old!, "SIGKILL");
        // Meanwhile node-1 keeps node-2's blocks (graceful restart: stale, not withdrawn).
        const t0 = performance.now();
        let lostRoute = false;
        const fresh = await eventually(
          "a new bird on node-2",
          async () => {
            if (JSON.stringify((await birdRoutes(n1.netns)).remote) !== JSON.stringify(routesBefore.remote))
              lostRoute = true;
            const p = birdPid(name, "node-2");
            return p !== undefined && p !== old ? p : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 50, found: true },
        );
        console.log(
          `lab-bgp: bird of node-2 restarted by its agent ${(performance.now() - t0).toFixed(0)} ms after SIGKILL`,
        );
        expect(fresh).not.toBe(old);
        await Bun.sleep(3000); // the restarted bird's graceful-restart recovery, then the exchange goes on
        await expectExactTables(name, 30_000);
        const after = last()!;
        expect(after.error).toBeUndefined();
        expect(after.received).toBeGreaterThan(30);
        expect(lostRoute).toBe(false);
        console.log(
          `lab-bgp: TCP exchange across the restart: longest gap between answers ${after.maxGapMs} ms`,
        );
        client.kill();
      },
      T,
    );

    test(
      "a removed node's blocks are withdrawn from every node and the ToR",
      async () => {
        const gone = (await blocksByNode(name)).get("node-3")!;
        expect(gone.length).toBeGreaterThan(0);
        await lab(name, ["node", "rm", "node-3"]);
        await expectExactTables(name, 30_000);
        await eventually("node-3's blocks gone from the ToR", async () => await torRoutes(name), {
          timeoutMs: 30_000,
          intervalMs: 250,
          until: (r) => gone.every((b) => !r.includes(b)),
        });
        for (const n of state(name).nodes) {
          const r = await birdRoutes(n.netns);
          expect(r.remote.filter((b) => gone.includes(b))).toEqual([]);
        }
      },
      T,
    );

    test(
      "lab ls shows the ToR (sessions established) and the outside host; lab down leaves nothing",
      async () => {
        const l = JSON.parse((await lab(name, ["ls", "-o", "json"])).stdout) as LabListing;
        expect(l.tor?.state).toBe("running");
        expect(
          l.tor?.sessions
            .filter((x) => x.state === "Established")
            .map((x) => x.peer)
            .sort(),
        ).toEqual(
          state(name)
            .nodes.map((n) => n.underlayAddress)
            .sort(),
        );
        expect(l.outside).toMatchObject({ address: "198.18.255.2", state: "ready" });
        const tor = state(name).tor!;
        await down(name);
        expect(existsSync(`/var/tmp/frr/bgpd.${tor.bgpd!.pid}`)).toBe(false);
      },
      T,
    );
  },
);

describe.skipIf(missing !== undefined)("bgp: 2 route reflectors, mesh off (5 nodes)", () => {
  const name = `bgpr${Math.random().toString(36).slice(2, 8)}`;
  beforeAll(async () => {
    await up(name, ["--nodes", "5", "--route-reflectors", "2"]);
    for (let i = 1; i <= 5; i++) await lab(name, ["pod", "add", `node-${i}`, `p${i}`]);
  }, T);

  test(
    "clients peer with the 2 reflectors only; every pod pair reachable; tables exact",
    async () => {
      const s = state(name);
      for (const n of s.nodes) {
        const sessions = await eventually(
          `${n.name}'s BGP sessions established`,
          async () => {
            const r = await run(["birdc", "-s", `${n.dir}/bird/bird.ctl`, "show", "protocols"]);
            const bgp = r.stdout.split("\n").filter((l) => /\sBGP\s/.test(l));
            return bgp.every((l) => l.includes("Established")) ? bgp.length : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 250, found: true },
        );
        // a reflector: the other reflector and the 3 clients; a client: the 2 reflectors (no mesh)
        expect({ node: n.name, sessions }).toEqual({ node: n.name, sessions: n.index <= 2 ? 4 : 2 });
      }
      await expectAllReachable(name, 30_000);
      await expectExactTables(name);
      await down(name);
    },
    T,
  );
});

describe.skipIf(missing !== undefined)("bgp: full mesh of 10 nodes", () => {
  const name = `bgpx${Math.random().toString(36).slice(2, 8)}`;
  beforeAll(async () => {
    await up(name, ["--nodes", "10"]);
    for (let i = 1; i <= 10; i++) await lab(name, ["pod", "add", `node-${i}`, `p${i}`]);
  }, T);

  test(
    "every pod pair reachable; every node's table = exactly the other 9 nodes' blocks",
    async () => {
      await expectAllReachable(name, 60_000);
      await expectExactTables(name, 30_000);
      await down(name);
    },
    T,
  );
});
