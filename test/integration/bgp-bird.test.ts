// The bgp backend with real BIRD 2 and real agents: three test namespaces (a, b, c) on one
// bridge (in a fourth, "sw"), a shared local datastore, `tartan agent` per node with backend bgp
// and its own bird (state dir per node). Proves: mesh sessions establish over IPv4 carrying
// both families, each node's kernel holds exactly the other nodes' blocks (proto bird) and its
// own blackholes (proto 201) untouched by the agent's reconciler; a new block is advertised and a
// new BGPPeer is configured without dropping established sessions; a SIGKILLed bird is restarted
// by the agent while peers keep its routes (graceful restart) and a TCP connection across
// nodes keeps working; a planned agent restart leaves bird and its sessions as they were; a
// mesh password applies; `tartan bgp status` answers per node and reports an unreachable agent.
// Every process (agents and birds, by PID), namespace and directory is removed, also on failure.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Datastore } from "../../src/datastore/datastore.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import { run } from "../../src/exec/run.ts";
import { spawnDetached } from "../../src/exec/spawn-detached.ts";
import type { BgpNodeStatus } from "../../src/model/agent-api.ts";
import { parseCidr } from "../../src/model/cidr.ts";
import { type IPAMBlockResource, KINDS } from "../../src/model/cluster-resources.ts";
import { formatIp } from "../../src/model/ip.ts";
import { ipamBlock } from "../harness/cluster-objects.ts";
import { eventually } from "../harness/eventually.ts";
import { cleanupAllNetns, createNetns, isRoot, type TestNetns } from "../harness/netns.ts";
import { processAlive, stopProcess } from "../harness/stop-process.ts";
import { privateTartanBin } from "../harness/tartan-binary.ts";

const skip = !isRoot || !existsSync("/usr/sbin/bird");
const SETTLE = { timeoutMs: 30_000, intervalMs: 200 };
const V = "tartan.dev/v1alpha1";

interface TestNode {
  name: string;
  ns: TestNetns;
  addr: string;
  addr6: string;
  dir: string;
  config: string;
  socket: string;
  agentPid?: number;
}

const agentPids = new Set<number>();
let root = "";
let bin = "";
let sw: TestNetns;
let ds: Datastore;
const nodes: TestNode[] = [];

function birdPid(n: TestNode): number | undefined {
  try {
    const pid = Number(readFileSync(join(n.dir, "bird", "bird.pid"), "utf8").trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
/** Every bird this test's agents started (their pid files), for the cleanup. */
const birdPids = new Set<number>();

async function startAgent(n: TestNode): Promise<void> {
  const pid = await spawnDetached(
    ["ip", "netns", "exec", n.ns.name, join(bin, "tartan"), "agent", "--config", n.config],
    {
      logFile: join(n.dir, "agent.log"),
    },
  );
  n.agentPid = pid;
  agentPids.add(pid);
}

async function stopAgent(n: TestNode): Promise<void> {
  if (n.agentPid === undefined) return;
  await stopProcess(n.agentPid, 8000);
  agentPids.delete(n.agentPid);
  n.agentPid = undefined;
}

async function tartan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await run([join(bin, "tartan"), ...args], { allowFailure: true, timeoutMs: 30_000 });
}

async function status(n: TestNode): Promise<BgpNodeStatus> {
  const r = await tartan(["bgp", "status", "--socket", n.socket, "--node", n.name, "-o", "json"]);
  const d = JSON.parse(r.stdout) as { nodes: BgpNodeStatus[] };
  return d.nodes[0]!;
}

async function birdRoutes(n: TestNode, family: 4 | 6): Promise<string[]> {
  const r = await n.ns.exec(["ip", `-${family}`, "-j", "route", "show", "proto", "bird"]);
  return (JSON.parse(r.stdout || "[]") as { dst: string }[]).map((x) => x.dst).sort();
}

async function blocksOf(name: string): Promise<IPAMBlockResource[]> {
  const { items } = await ds.list(KINDS.ipamBlock);
  return (items as IPAMBlockResource[]).filter((b) => b.spec.node === name);
}

/** The other nodes' blocks of one family, in `ip -j` form (an IPv6 /122 keeps its text). */
async function othersBlocks(n: TestNode, family: 4 | 6): Promise<string[]> {
  const all: string[] = [];
  for (const o of nodes) {
    if (o === n) continue;
    for (const b of await blocksOf(o.name)) {
      const isV6 = b.spec.cidr.includes(":");
      if ((family === 6) === isV6) all.push(b.spec.cidr);
    }
  }
  return all.sort();
}

/** Each session's peer and when it last changed state ("HH:MM:SS.mmm" as BIRD shows it), in ms. */
const sinceOf = (s: BgpNodeStatus, type?: string): Map<string, number> =>
  new Map(
    s.sessions
      .filter((x) => type === undefined || x.type === type)
      .map((x) => {
        const [h, m, sec] = (x.since ?? "").split(":").map(Number);
        return [x.peer, ((h ?? 0) * 3600 + (m ?? 0) * 60 + (sec ?? 0)) * 1000] as [string, number];
      }),
  );

/**
 * The same sessions, none of them re-established: BIRD keeps a session's time as a monotonic
 * stamp and converts it to wall-clock time when asked, so the same unchanged session reads 1 ms
 * apart now and then (seen in CI); a dropped one comes back seconds later, not within 50 ms.
 */
function expectSameSessions(after: Map<string, number>, before: Map<string, number>): void {
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [peer, t] of before) expect(Math.abs(after.get(peer)! - t)).toBeLessThanOrEqual(50);
}

const allEstablished = (s: BgpNodeStatus, count: number) =>
  s.sessions.length === count && s.sessions.every((x) => x.state === "Established");

describe.skipIf(skip)("bgp backend: real agents driving real BIRD", () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "tartan-bgp-"));
    bin = await privateTartanBin();
    sw = await createNetns("sw");
    await sw.exec(["ip", "link", "add", "br0", "type", "bridge"]);
    await sw.exec(["ip", "link", "set", "br0", "up"]);
    const dsPath = join(root, "ds.db");
    for (const [i, name] of ["a", "b", "c"].entries()) {
      const ns = await createNetns(`bgp${name}`);
      const addr = `10.99.0.${11 + i}`;
      const addr6 = `fd00:99::${11 + i}`;
      await run([
        "ip",
        "-n",
        sw.name,
        "link",
        "add",
        `p${name}`,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns.name,
      ]);
      await sw.exec(["ip", "link", "set", `p${name}`, "master", "br0", "up"]);
      await ns.exec(["ip", "addr", "add", `${addr}/24`, "dev", "eth0"]);
      await ns.exec(["ip", "-6", "addr", "add", `${addr6}/64`, "dev", "eth0", "nodad"]);
      await ns.exec(["ip", "link", "set", "eth0", "up"]);
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      const socket = join(dir, "agent.sock");
      const config = join(dir, "agent.json");
      writeFileSync(
        config,
        JSON.stringify({
          nodeName: name,
          datastore: { type: "local", path: dsPath },
          backend: "bgp",
          underlayInterface: "eth0",
          ipamDataDir: join(dir, "ipam"),
          socket,
          metricsAddress: "",
          networkPolicy: false,
          nodeReclaimProbe: "none",
          resyncSeconds: 2,
          bgp: { stateDir: join(dir, "bird") },
        }),
      );
      nodes.push({ name, ns, addr, addr6, dir, config, socket });
    }
    for (const n of nodes) await startAgent(n);
    ds = await openDatastore({ type: "local", path: dsPath });
  }, 120_000);

  afterAll(async () => {
    for (const pid of [...agentPids]) await stopProcess(pid, 8000).catch(() => {});
    for (const n of nodes) {
      const p = birdPid(n);
      if (p !== undefined) birdPids.add(p);
    }
    for (const pid of birdPids) if (processAlive(pid)) await stopProcess(pid, 5000).catch(() => {});
    await ds?.close().catch(() => {});
    await cleanupAllNetns();
    if (bin) rmSync(bin, { recursive: true, force: true });
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test("mesh sessions establish; every node holds exactly the others' blocks, both families", async () => {
    for (const n of nodes) {
      // Healthy also means bird's start-up graceful-restart recovery (`-R`) is over.
      const s = await eventually(`node ${n.name}: 2 sessions Established, healthy`, () => status(n), {
        ...SETTLE,
        until: (x) => allEstablished(x, 2) && x.healthy,
      });
      expect(s.sessions.map((x) => x.type)).toEqual(["mesh", "mesh"]);
      expect(s.sessions.every((x) => x.families.join() === "ipv4,ipv6")).toBe(true);
      expect(s.healthy).toBe(true);
      const p = birdPid(n);
      if (p !== undefined) birdPids.add(p);
    }
    for (const n of nodes) {
      for (const f of [4, 6] as const) {
        const want = await othersBlocks(n, f);
        expect(want.length).toBe(2);
        await eventually(`node ${n.name}: IPv${f} bird routes = the others' blocks`, () => birdRoutes(n, f), {
          ...SETTLE,
          until: (r) => Bun.deepEquals(r, want),
        });
      }
      // The own blocks: tartan's proto-201 blackholes, not BIRD's.
      const own = (await blocksOf(n.name)).map((b) => b.spec.cidr);
      const bh = await n.ns.exec(["ip", "-4", "route", "show", "type", "blackhole"]);
      const v4own = own.find((c) => !c.includes(":"))!;
      expect(bh.stdout).toContain(`blackhole ${v4own} proto 201`);
      expect(bh.stdout).not.toContain("proto bird");
    }
  }, 90_000);

  test("pod addresses of both families reach each other across nodes (plain IP, no tunnel)", async () => {
    const [a, c] = [nodes[0]!, nodes[2]!];
    // "Pods": the block's 9th address on the node's loopback (more specific than its blackhole).
    const podIp = async (n: TestNode, family: 4 | 6) => {
      const cidr = (await blocksOf(n.name)).find((b) => b.spec.cidr.includes(":") === (family === 6))!.spec
        .cidr;
      const net = parseCidr(cidr).ip;
      const ip = formatIp({ family, value: net.value + 9n });
      await n.ns.exec(["ip", "addr", "add", `${ip}/${family === 4 ? 32 : 128}`, "dev", "lo"]);
      return ip;
    };
    for (const family of [4, 6] as const) {
      const [ha, hc] = [await podIp(a, family), await podIp(c, family)];
      const r = await c.ns.exec(["ping", `-${family}`, "-c", "1", "-W", "2", "-I", hc, ha], {
        allowFailure: true,
      });
      expect(`${ha} from ${hc}: ${r.code}`).toBe(`${ha} from ${hc}: 0`);
      const route = await c.ns.exec(["ip", `-${family}`, "route", "get", ha, "from", hc]);
      expect(route.stdout).toContain(`via ${family === 4 ? a.addr : a.addr6} dev eth0`);
    }
  }, 30_000);

  test("the agent's reconciler leaves BIRD's routes alone across resyncs (resyncSeconds 2)", async () => {
    const a = nodes[0]!;
    const before = (await a.ns.exec(["ip", "-4", "route", "show", "proto", "bird"])).stdout;
    expect(before).not.toBe("");
    const logBefore = readFileSync(join(a.dir, "agent.log"), "utf8").length;
    await Bun.sleep(5000); // two resyncs at least
    expect((await a.ns.exec(["ip", "-4", "route", "show", "proto", "bird"])).stdout).toBe(before);
    // The reconciler read the kernel on every resync and found nothing of its own to change.
    const log = readFileSync(join(a.dir, "agent.log"), "utf8").slice(logBefore);
    expect(log).not.toContain('"msg":"kernel updated"');
  }, 30_000);

  test("a new block and a new BGPPeer: configured without dropping established sessions", async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    const sinceBefore = sinceOf(await status(b));
    await ds.create(ipamBlock("10.244.200.0/26", "a", "pool-10-244-0-0-16"));
    const t0 = Date.now();
    await eventually("node b learns a's new block", () => birdRoutes(b, 4), {
      timeoutMs: 15_000,
      intervalMs: 50,
      until: (r) => r.includes("10.244.200.0/26"),
    });
    console.log(`new block advertised and installed on a peer in ${Date.now() - t0} ms`);
    await ds.create({
      apiVersion: V,
      kind: "BGPPeer",
      metadata: { name: "nobody" },
      spec: { peerIP: "10.99.0.250", asNumber: 65000 },
    });
    try {
      const s = await eventually("node b has the external session configured", () => status(b), {
        ...SETTLE,
        until: (x) => x.sessions.some((y) => y.type === "external"),
      });
      expectSameSessions(sinceOf(s, "mesh"), sinceBefore);
      expect(s.healthy).toBe(false);
      expect(s.verdict).toStartWith("degraded: 2/3 sessions established");
    } finally {
      // Also on failure: the later tests count sessions and blocks.
      await ds.delete("BGPPeer", "nobody").catch(() => {});
      await ds.delete(KINDS.ipamBlock, "10-244-200-0-26").catch(() => {});
    }
    await eventually("node b withdraws a's removed block", () => birdRoutes(b, 4), {
      ...SETTLE,
      until: (r) => !r.includes("10.244.200.0/26"),
    });
    const after = await eventually("node b back to 2 sessions", () => status(b), {
      ...SETTLE,
      until: (x) => allEstablished(x, 2),
    });
    expectSameSessions(sinceOf(after), sinceBefore);
    expect(readFileSync(join(a.dir, "bird", "bird.conf"), "utf8")).not.toContain("10.244.200.0/26");
  }, 60_000);

  test("bird SIGKILLed: the agent restarts it, peers keep its routes, a TCP connection survives", async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    // "Pods": one address of each node's IPv4 block on its loopback (local beats the blackhole).
    const podAddr = async (n: TestNode) => {
      const block = (await blocksOf(n.name)).find((x) => !x.spec.cidr.includes(":"))!.spec.cidr;
      const ip = block.replace(/\.0\/26$/, ".5").replace(/\.(\d+)\/26$/, (_m, x) => `.${Number(x) + 5}`);
      await n.ns.exec(["ip", "addr", "add", `${ip}/32`, "dev", "lo"]);
      return { ip, block };
    };
    const pa = await podAddr(a);
    const pb = await podAddr(b);
    // A TCP echo in a, a client in b keeping one connection open and writing every 100 ms (both
    // small node:net scripts run by this bun inside the namespaces).
    const echo = join(root, "echo.js");
    writeFileSync(echo, `require("node:net").createServer((s) => s.pipe(s)).listen(7777, process.argv[2]);`);
    const relay = join(root, "relay.js");
    writeFileSync(
      relay,
      `const s = require("node:net").createConnection({ host: process.argv[2], port: 7777, localAddress: process.argv[3] });
       process.stdin.pipe(s); s.pipe(process.stdout); s.on("close", () => process.exit(3));`,
    );
    const server = Bun.spawn(["ip", "netns", "exec", a.ns.name, process.execPath, echo, pa.ip], {
      stdout: "ignore",
      stderr: "ignore",
    });
    agentPids.add(server.pid);
    await Bun.sleep(500);
    const client = Bun.spawn(["ip", "netns", "exec", b.ns.name, process.execPath, relay, pa.ip, pb.ip], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    agentPids.add(client.pid);
    let echoed = "";
    const reader = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of client.stdout as ReadableStream<Uint8Array>) echoed += dec.decode(chunk);
    })();
    let sent = 0;
    const writer = setInterval(() => {
      client.stdin.write(`${sent++}\n`);
      client.stdin.flush();
    }, 100);
    try {
      await eventually("echo through the connection", () => echoed.includes("\n"), { timeoutMs: 10_000 });
      const old = birdPid(a)!;
      expect(processAlive(old)).toBe(true);
      // b's route to a's block is watched all through the restart.
      let missing = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          if (!(await birdRoutes(b, 4)).includes(pa.block)) missing++;
          await Bun.sleep(50);
        }
      })();
      process.kill(old, "SIGKILL");
      const t0 = Date.now();
      const fresh = await eventually("a new bird on node a", () => birdPid(a), {
        timeoutMs: 20_000,
        intervalMs: 50,
        until: (p) => p !== undefined && p !== old && processAlive(p),
      });
      birdPids.add(fresh!);
      console.log(`bird restarted by the agent ${Date.now() - t0} ms after SIGKILL`);
      await eventually("a's sessions re-established", () => status(a), {
        ...SETTLE,
        until: (x) => allEstablished(x, 2),
      });
      await Bun.sleep(1000);
      watching = false;
      await watch;
      expect(missing).toBe(0);
      const before = sent;
      await eventually("the connection still echoes", () => echoed.split("\n").length > before, {
        timeoutMs: 10_000,
      });
      expect(client.exitCode).toBeNull();
    } finally {
      clearInterval(writer);
      client.kill("SIGKILL");
      server.kill("SIGKILL");
      await reader.catch(() => {});
      agentPids.delete(client.pid);
      agentPids.delete(server.pid);
    }
  }, 90_000);

  test("bird stopped (SIGSTOP, alive but silent): replaced after a few probes, no second bird beside it", async () => {
    const a = nodes[0]!;
    const old = birdPid(a)!;
    process.kill(old, "SIGSTOP");
    const t0 = Date.now();
    try {
      // While it is only silent, nothing else answers on its socket and no second bird runs.
      await Bun.sleep(2500);
      expect(birdPid(a)).toBe(old);
      const fresh = await eventually("the hung bird replaced", () => birdPid(a), {
        timeoutMs: 40_000,
        intervalMs: 100,
        until: (p) => p !== undefined && p !== old && processAlive(p),
      });
      birdPids.add(fresh!);
      console.log(`hung bird replaced ${Date.now() - t0} ms after SIGSTOP`);
      expect(processAlive(old)).toBe(false);
      await eventually("a's sessions re-established", () => status(a), {
        ...SETTLE,
        until: (x) => allEstablished(x, 2) && x.healthy,
      });
    } catch (e) {
      console.log(readFileSync(join(a.dir, "agent.log"), "utf8").split("\n").slice(-15).join("\n"));
      throw e;
    } finally {
      if (processAlive(old)) process.kill(old, "SIGKILL");
    }
  }, 90_000);

  test("planned agent restart: bird keeps running, is adopted, sessions and routes untouched", async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    const pid = birdPid(a)!;
    const sinceB = sinceOf(await status(b));
    const routes = await birdRoutes(a, 4);
    const starts = () => readFileSync(join(a.dir, "agent.log"), "utf8").split('"msg":"bird started"').length;
    const startsBefore = starts();
    await stopAgent(a);
    expect(processAlive(pid)).toBe(true);
    // Unreachable agent: partial answer, exit 1.
    const r = await tartan(["bgp", "status", "--socket", a.socket, "-o", "json"]);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { nodes: BgpNodeStatus[] }).nodes[0]!.verdict).toStartWith(
      "unreachable:",
    );
    await startAgent(a);
    await eventually("a's agent answers again", () => status(a), {
      ...SETTLE,
      until: (x) => allEstablished(x, 2),
    });
    expect(birdPid(a)).toBe(pid);
    expect(await birdRoutes(a, 4)).toEqual(routes);
    expectSameSessions(sinceOf(await status(b)), sinceB);
    expect(starts()).toBe(startsBefore);
    expect(readFileSync(join(a.dir, "agent.log"), "utf8")).toContain('"msg":"bird adopted and reconfigured"');
  }, 60_000);

  test("a mesh password: sessions come back with TCP-MD5", async () => {
    await ds.create({
      apiVersion: V,
      kind: "BGPConfiguration",
      metadata: { name: "default" },
      spec: { nodeMeshPassword: "s3cret-pw" },
    });
    for (const n of nodes) {
      await eventually(
        `node ${n.name}: password in bird.conf`,
        () => readFileSync(join(n.dir, "bird", "bird.conf"), "utf8").includes('password "s3cret-pw";'),
        { ...SETTLE },
      );
    }
    for (const n of nodes)
      await eventually(`node ${n.name}: sessions established with the password`, () => status(n), {
        ...SETTLE,
        until: (x) => allEstablished(x, 2),
      });
    const table = await tartan(["bgp", "status", "--socket", nodes[0]!.socket]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain("ok: 2/2 sessions established");
  }, 90_000);

  test("route reflector: node a reflects, mesh off, b and c learn each other through a", async () => {
    const [a, b, c] = [nodes[0]!, nodes[1]!, nodes[2]!];
    const cfg = (await ds.get("BGPConfiguration", "default"))!;
    await ds.update({ ...cfg, spec: { ...(cfg.spec as object), nodeToNodeMeshEnabled: false } });
    await ds.create({
      apiVersion: V,
      kind: "BGPPeer",
      metadata: { name: "to-reflectors" },
      spec: {
        peerSelector: { matchExpressions: [{ key: "tartan.dev/route-reflector", operator: "Exists" }] },
      },
    });
    await stopAgent(a);
    const conf = JSON.parse(readFileSync(a.config, "utf8"));
    conf.bgp.routeReflectorClusterID = "244.0.0.1";
    writeFileSync(a.config, JSON.stringify(conf));
    await startAgent(a);
    const sa = await eventually("a: reflector with 2 clients", () => status(a), {
      ...SETTLE,
      until: (x) => allEstablished(x, 2) && x.sessions.every((y) => y.type === "reflector-client"),
    });
    expect(sa.routeReflectorClusterID).toBe("244.0.0.1");
    for (const n of [b, c]) {
      const s = await eventually(`${n.name}: one session, to its reflector`, () => status(n), {
        ...SETTLE,
        until: (x) => allEstablished(x, 1) && x.healthy,
      });
      expect(s.sessions[0]).toMatchObject({ peerNode: "a", type: "reflector" });
    }
    // c's blocks on b: reflected by a, next hop kept (c itself).
    const cBlock = (await blocksOf("c")).find((x) => !x.spec.cidr.includes(":"))!.spec.cidr;
    await eventually(
      "b routes c's block via c",
      async () => (await b.ns.exec(["ip", "-4", "route", "show", cBlock])).stdout,
      {
        ...SETTLE,
        until: (r) => r.includes(`via ${c.addr}`) && r.includes("proto bird"),
      },
    );
    for (const n of nodes) {
      const want = await othersBlocks(n, 4);
      await eventually(`node ${n.name}: still exactly the others' IPv4 blocks`, () => birdRoutes(n, 4), {
        ...SETTLE,
        until: (r) => Bun.deepEquals(r, want),
      });
    }
  }, 90_000);
});
