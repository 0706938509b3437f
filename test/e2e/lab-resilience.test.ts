// Resilience of a running cluster, end to end on the lab (real etcd, real agents, real plugin),
// driven through the CLI (`tartan lab …`): an agent restart writes nothing and breaks no
// connection; an etcd outage keeps the dataplane and local pod starts working and the agents
// catch up after it; a removed node's routes vanish from every other node; health and metrics.
// One lab for the whole file (the tests run in order on it); it adds nothing to the root
// namespace and is removed in afterAll, also when a test or beforeAll failed. (No exit hook:
// bun test does not run process.on("exit") handlers.)
// Needs root and the etcd binary: skipped, with the reason printed, otherwise.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { run } from "../../src/exec/run.ts";
import type { LabMatrix } from "../../src/lab/lab-matrix.ts";
import type { LabState } from "../../src/lab/lab-state.ts";
import type { NodeRmResult } from "../../src/lab/node-rm.ts";
import { processStartTime } from "../../src/lab/process-start-time.ts";
import { eventually } from "../harness/eventually.ts";
import { isRoot } from "../harness/netns.ts";
import { privateTartanBin } from "../harness/tartan-binary.ts";

const T = 120_000;
const OUTAGE_MS = 30_000;
const PINGPONG = join(import.meta.dir, "../fixtures/tcp-pingpong.ts");
const hasEtcd =
  isRoot && (await run(["etcd", "--version"], { allowFailure: true }).catch(() => null))?.code === 0;
const bin = hasEtcd ? await privateTartanBin("tartan-resil-test-") : "";
const tartan = `${bin}/tartan`;
const hasAgent =
  hasEtcd && (await run([tartan, "--help"], { allowFailure: true })).stdout.includes("tartan agent");
if (!hasAgent) {
  console.warn(
    `lab-resilience: skipped (${!isRoot ? "needs root" : !hasEtcd ? "no etcd binary on PATH" : "tartan has no agent"})`,
  );
}

const name = `resil${Math.random().toString(36).slice(2, 8)}`;
let labUp = false;
/** Processes this file started (fixtures, monitors): stopped by their own handle's PID. */
const spawned = new Set<Subprocess>();

async function lab(args: string[], allowFailure = false) {
  return await run([tartan, "lab", ...args, "--lab", name], { allowFailure, timeoutMs: 120_000 });
}

const state = (): LabState =>
  JSON.parse(readFileSync(`/run/tartan-lab/${name}/lab.json`, "utf8")) as LabState;
const node = (n: string) => state().nodes.find((x) => x.name === n)!;
const pod = (p: string) => state().pods.find((x) => x.name === p)!;

/** GET on an agent's unix socket (a file in the lab dir: no network traffic from the root namespace). */
async function agentGet(nodeName: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://tartan-agent${path}`, {
    unix: `${node(nodeName).dir}/agent.sock`,
    signal: AbortSignal.timeout(2000),
  });
  return { status: res.status, body: await res.text() };
}

function metric(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function matrix(timeoutMs = 1500): Promise<LabMatrix> {
  const r = await lab(["matrix", "-o", "json", "--timeout-ms", String(timeoutMs)], true);
  return JSON.parse(r.stdout) as LabMatrix;
}

const broken = (m: LabMatrix) => m.cells.filter((c) => !(c.ping && c.tcp));

/** The matrix, retried until every cell is ✓ or the time is up (then the last one). */
async function matrixUntilGreen(timeoutMs: number): Promise<LabMatrix> {
  return await eventually("a green matrix", () => matrix(), {
    timeoutMs,
    intervalMs: 500,
    until: (m) => m.ok,
    onTimeout: "last",
  });
}

function spawn(argv: string[]): Subprocess<"ignore", "pipe", "pipe"> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  spawned.add(p);
  return p;
}

/** Stops a process this file started (by its PID) and returns its output not read yet. */
async function stop(p: Subprocess<"ignore", "pipe", "pipe">): Promise<string> {
  p.kill();
  await p.exited;
  spawned.delete(p);
  // A stream a reader already consumed (the client's status lines) has nothing left to give.
  const text = async (s: ReadableStream<Uint8Array>) => {
    try {
      return await new Response(s).text();
    } catch {
      return "";
    }
  };
  return (await text(p.stdout)) + (await text(p.stderr));
}

/** `ip monitor` prints an event per line, links with indented continuation lines: one string each. */
const events = (out: string): string[] => out.replace(/\n\s+/g, " ").split("\n").filter(Boolean);

/** `lab down`, then nothing of the lab is left: namespaces, recorded processes, its dir. */
async function down(): Promise<void> {
  let procs: { pid: number; startTime: string }[] = [];
  try {
    const s = state();
    procs = [
      ...(s.etcd ? [s.etcd] : []),
      ...s.nodes.flatMap((n) => (n.agent ? [n.agent] : [])),
      ...s.pods.flatMap((p) => (p.responder ? [p.responder] : [])),
    ];
  } catch {}
  const r = await lab(["down"], true);
  labUp = false;
  expect(r.code).toBe(0);
  expect(readdirSync("/run/netns").filter((n) => n.startsWith(`tl-${name}-`))).toEqual([]);
  expect(procs.filter((p) => processStartTime(p.pid) === p.startTime)).toEqual([]);
  expect(existsSync(`/run/tartan-lab/${name}`)).toBe(false);
}

describe.skipIf(!hasAgent)("lab resilience: 3 nodes (vxlan), real etcd and agents", () => {
  beforeAll(async () => {
    labUp = true;
    await lab(["up", "--nodes", "3", "--backend", "vxlan"]);
    await Promise.all([1, 2, 3].map((i) => lab(["pod", "add", `node-${i}`, `p${i}`])));
    const m = await matrixUntilGreen(30_000);
    expect(broken(m)).toEqual([]);
  }, T);

  afterAll(async () => {
    for (const p of [...spawned]) await stop(p as Subprocess<"ignore", "pipe", "pipe">).catch(() => {});
    try {
      if (labUp) await down();
    } finally {
      if (bin) rmSync(bin, { recursive: true, force: true });
    }
  }, T);

  test("item 4: every agent's health endpoint answers and /metrics has the expected series", async () => {
    for (const n of ["node-1", "node-2", "node-3"]) {
      const health = await agentGet(n, "/v1/healthz");
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({
        ok: true,
        network: { available: true, reason: "TartanIsUp" },
      });
      const { status, body } = await agentGet(n, "/metrics");
      expect(status).toBe(200);
      expect(metric(body, "tartan_agent_synced")).toBe(1);
      expect(metric(body, "tartan_agent_nodes")).toBe(3);
      expect(metric(body, 'tartan_agent_blocks{scope="cluster"}')).toBe(3);
      expect(metric(body, 'tartan_agent_blocks{scope="node"}')).toBe(1);
      expect(metric(body, "tartan_agent_applies_total")).toBeGreaterThanOrEqual(1);
      expect(metric(body, "tartan_agent_apply_errors_total")).toBe(0);
      expect(metric(body, "tartan_agent_kernel_changes_total")).toBeGreaterThan(0);
      for (const s of [
        "tartan_agent_apply_duration_seconds_sum",
        "tartan_agent_apply_duration_seconds_count",
        "tartan_agent_last_apply_duration_seconds",
        "tartan_agent_resyncs_total",
        "tartan_agent_block_claims_total",
        "tartan_agent_block_releases_total",
        "tartan_agent_heartbeats_total",
      ]) {
        expect(metric(body, s)).toBeNumber();
      }
      expect(body).toContain("# TYPE tartan_agent_datastore_errors_total counter");
      // The metrics listener in the node's namespace (127.0.0.1:9100) serves the same.
      const inNode = ["ip", "netns", "exec", node(n).netns, tartan, "lab", "probe", "http"];
      expect((await run([...inNode, "http://127.0.0.1:9100/healthz"])).stdout.trim()).toBe("ok");
      const tcp = (await run([...inNode, "http://127.0.0.1:9100/metrics"])).stdout;
      expect(metric(tcp, "tartan_agent_synced")).toBe(1);
    }
  });

  test(
    "item 1: an agent restart writes nothing to the kernel and an established TCP connection lives on",
    async () => {
      const n1 = node("node-1");
      const server = pod("p2");
      const serverIp = server.ips[0]!.split("/")[0]!;
      spawn(["ip", "netns", "exec", server.netns, process.execPath, PINGPONG, "server", "9090"]);
      const client = spawn([
        "ip",
        "netns",
        "exec",
        pod("p1").netns,
        process.execPath,
        PINGPONG,
        "client",
        serverIp,
        "9090",
        "100",
      ]);
      // The client's status lines, as they come.
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
      type Status = { sent: number; received: number; maxRttMs: number; maxGapMs: number; error?: string };
      const last = (): Status | undefined => (lines.length ? JSON.parse(lines.at(-1)!) : undefined);
      const before = await eventually(
        "the TCP exchange running",
        () => ((last()?.received ?? 0) >= 5 ? last() : undefined),
        { timeoutMs: 15_000, intervalMs: 100, found: true },
      );
      expect(before.error).toBeUndefined();

      // The kernel's own work on fresh links settles first: a veth's IPv6 link-local address
      // finishing duplicate address detection adds a local route, which is nobody's write.
      await eventually(
        "no tentative IPv6 address left on node-1",
        async () =>
          (await run(["ip", "-n", n1.netns, "-6", "addr", "show", "tentative"])).stdout.trim() === "",
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      // Everything the kernel of node-1 reports from here on.
      const ipMon = spawn(["ip", "-n", n1.netns, "monitor", "route", "neigh", "link"]);
      const fdbMon = spawn(["bridge", "-n", n1.netns, "monitor", "fdb"]);
      await Bun.sleep(300);

      const oldAgent = n1.agent!;
      const r = JSON.parse((await lab(["agent", "restart", "node-1", "-o", "json"])).stdout) as {
        stopped?: number;
        started?: number;
      };
      expect(r.stopped).toBe(oldAgent.pid);
      expect(processStartTime(oldAgent.pid)).not.toBe(oldAgent.startTime);
      const newAgent = node("node-1").agent!;
      expect(r.started).toBe(newAgent.pid);
      expect(newAgent.pid).not.toBe(oldAgent.pid);
      // Synced (health answered before `restart` returned), and its first apply has run.
      expect((await agentGet("node-1", "/v1/healthz")).status).toBe(200);
      const m = await eventually(
        "the restarted agent's first apply",
        async () => {
          const body = (await agentGet("node-1", "/metrics")).body;
          return (metric(body, "tartan_agent_applies_total") ?? 0) >= 1 ? body : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100, found: true },
      );
      expect(metric(m, "tartan_agent_synced")).toBe(1);
      expect(metric(m, "tartan_agent_apply_errors_total")).toBe(0);
      expect(metric(m, "tartan_agent_kernel_changes_total")).toBe(0);
      const log = readFileSync(newAgent.log, "utf8")
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { pid: number; msg: string });
      const own = log.filter((l) => l.pid === newAgent.pid).map((l) => l.msg);
      expect(own).toContain("first sync done");
      expect(own).not.toContain("kernel updated");
      // Let a resync-free second pass of traffic run over the restarted node.
      await Bun.sleep(1000);

      // A canary change, so an empty recording means "nothing happened", not "not recording".
      await run(["ip", "-n", n1.netns, "link", "add", "rscanary", "type", "bridge"]);
      await run(["ip", "-n", n1.netns, "link", "del", "rscanary"]);
      await Bun.sleep(300);
      const ipEvents = events(await stop(ipMon));
      const fdbEvents = events(await stop(fdbMon));
      const canary = (l: string) => l.includes("rscanary");
      expect(ipEvents.some(canary)).toBe(true);
      expect(fdbEvents.some(canary)).toBe(true);
      // Only the kernel's own ARP bookkeeping of the underlay (dynamic states on eth0) may show.
      const arp = (l: string) =>
        / dev eth0 /.test(l) &&
        !l.includes("PERMANENT") &&
        /(REACHABLE|STALE|DELAY|PROBE|INCOMPLETE)/.test(l);
      expect(ipEvents.filter((l) => !canary(l) && !arp(l))).toEqual([]);
      expect(fdbEvents.filter((l) => !canary(l))).toEqual([]);

      const after = last()!;
      console.info(`lab-resilience: TCP exchange across the restart: ${JSON.stringify(after)}`);
      expect(after.error).toBeUndefined();
      expect(after.received).toBeGreaterThanOrEqual(before.received + 10);
      expect(after.sent - after.received).toBeLessThanOrEqual(2);
      expect(after.maxGapMs).toBeLessThan(1000);
      expect(client.exitCode).toBeNull();
      for (const p of [...spawned]) await stop(p as Subprocess<"ignore", "pipe", "pipe">);
    },
    T,
  );

  test(
    "item 3: an etcd outage of 30 s: connectivity stays, a pod starts from local blocks, the agents catch up",
    async () => {
      const etcdRunning = async () => JSON.parse((await lab(["ls", "-o", "json"])).stdout).etcd.running;
      const stopped = JSON.parse((await lab(["etcd", "stop", "-o", "json"])).stdout) as { stopped?: number };
      const t0 = Date.now();
      try {
        expect(stopped.stopped).toBeNumber();
        expect(await etcdRunning()).toBe(false);

        // During the outage: every existing pod still reaches every other (one run, no retry).
        let m = await matrix();
        expect(broken(m)).toEqual([]);
        expect(m.total).toBe(6);
        // A new pod on node-2 starts: its block has free addresses, the plugin allocates locally.
        const d = JSON.parse((await lab(["pod", "add", "node-2", "d", "-o", "json"])).stdout) as {
          ips: string[];
        };
        expect(d.ips[0]).toMatch(/^10\.244\.\d+\.\d+\/32$/);
        // The agents stay healthy (they keep what they know), and so does the dataplane.
        for (const n of ["node-1", "node-2", "node-3"])
          expect((await agentGet(n, "/v1/healthz")).status).toBe(200);
        m = await matrix();
        expect(broken(m)).toEqual([]);
        expect(m.total).toBe(12);

        await Bun.sleep(Math.max(0, OUTAGE_MS - (Date.now() - t0)));
        expect(await etcdRunning()).toBe(false);
        const started = JSON.parse((await lab(["etcd", "start", "-o", "json"])).stdout) as {
          started?: number;
        };
        expect(started.started).toBeNumber();
        expect(state().etcd!.pid).toBe(started.started!);
      } finally {
        // Whatever failed above, the next tests get their etcd back.
        if (!(await etcdRunning())) await lab(["etcd", "start"], true);
      }

      // The agents catch up: the new pod is reachable from every node, and its IPs, which node-2's
      // agent could not write to its Pod during the outage, are written now.
      let m = await matrixUntilGreen(20_000);
      expect(broken(m)).toEqual([]);
      await eventually(
        "node-2's agent writing the IPs of default/d",
        () =>
          readFileSync(node("node-2").agent!.log, "utf8")
            .split("\n")
            .some(
              (l) => l.includes("pod IPs written after the datastore came back") && l.includes("default/d"),
            ),
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      // A change made after the outage propagates: node-4 joins, its block and VTEP reach every
      // node's kernel through the agents' watches, and its pod reaches every other and back.
      const n4 = JSON.parse((await lab(["node", "add", "-o", "json"])).stdout) as { name: string };
      expect(n4.name).toBe("node-4");
      await lab(["pod", "add", "node-4", "p4"]);
      m = await matrixUntilGreen(20_000);
      expect(broken(m)).toEqual([]);
      expect(m.total).toBe(20);
      for (const n of ["node-1", "node-2", "node-3", "node-4"]) {
        const body = (await agentGet(n, "/metrics")).body;
        expect(metric(body, "tartan_agent_nodes")).toBe(4);
        expect(metric(body, 'tartan_agent_blocks{scope="cluster"}')).toBe(4);
      }
    },
    T,
  );

  test(
    "item 2: a removed node's routes, neighbours and FDB entries vanish from every other node",
    async () => {
      const n3 = node("node-3");
      const blocks = (JSON.parse((await agentGet("node-3", "/v1/status")).body) as { blocks: string[] })
        .blocks;
      expect(blocks.length).toBe(1);
      const vtep = (
        JSON.parse((await run(["ip", "-n", n3.netns, "-j", "link", "show", "tartan.vxlan"])).stdout) as {
          address: string;
        }[]
      )[0]!.address;
      const others = state().nodes.filter((n) => n.name !== "node-3");

      /** What node `netns` still holds for node-3: routes to its blocks, neighbours and FDB entries. */
      const leftovers = async (netns: string): Promise<string[]> => {
        const routes = (await run(["ip", "-n", netns, "route", "show", "proto", "201"])).stdout;
        const neigh = (await run(["ip", "-n", netns, "neigh", "show", "dev", "tartan.vxlan"])).stdout;
        const fdb = (await run(["bridge", "-n", netns, "fdb", "show", "dev", "tartan.vxlan"])).stdout;
        return [...routes.split("\n"), ...neigh.split("\n"), ...fdb.split("\n")].filter(
          (l) =>
            blocks.some((b) => l.startsWith(`${b} `)) ||
            l.includes(n3.underlayAddress) ||
            l.toLowerCase().includes(vtep.toLowerCase()),
        );
      };
      // Before: every other node has all three.
      for (const o of others) expect((await leftovers(o.netns)).length).toBe(3);

      const r = JSON.parse((await lab(["node", "rm", "node-3", "-o", "json"])).stdout) as NodeRmResult;
      const t0 = Date.now();
      expect(r.pods).toEqual(["default/p3"]);
      expect(r.agentStopped).toBe(n3.agent!.pid);
      expect(r.datastore).toEqual({ node: "node-3", nodeDeleted: true, blocks });
      expect(existsSync(`/run/netns/${n3.netns}`)).toBe(false);
      expect(state().nodes.map((n) => n.name)).toEqual(others.map((n) => n.name));

      for (const o of others) {
        const left = await eventually(`${o.name} forgetting node-3`, () => leftovers(o.netns), {
          timeoutMs: 10_000,
          intervalMs: 100,
          until: (l) => l.length === 0,
        });
        expect(left).toEqual([]);
      }
      console.info(`lab-resilience: node-3 gone from every other kernel after ${Date.now() - t0} ms`);
      for (const o of others) {
        const body = (await agentGet(o.name, "/metrics")).body;
        expect(metric(body, "tartan_agent_nodes")).toBe(others.length);
        expect(metric(body, 'tartan_agent_blocks{scope="cluster"}')).toBe(others.length);
      }
      // The rest of the cluster is unaffected.
      const m = await matrixUntilGreen(10_000);
      expect(broken(m)).toEqual([]);
      const pods = state().pods.length;
      expect(m.total).toBe(pods * (pods - 1));
    },
    T,
  );
});
