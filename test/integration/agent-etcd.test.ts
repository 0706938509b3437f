// The node agent and block IPAM against a real etcd and the real kernel.
// - racing claimers: N clients (own etcd connections) claim the last free block at once;
// - two nodes (test namespaces H1, H2 joined by a veth underlay, etcd inside H1 on the underlay
//   address) each run the real `tartan agent`; the real plugin (nodeBlocks IPAM) ADDs pods in H1
//   and takes a second block through the agent socket when the first is full; with the agent
//   down the ADD fails with a clear error; a restarted agent writes nothing to the kernel.
// Everything (processes by PID, namespaces, dirs) is removed after the tests, also on failure.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EtcdDatastore } from "../../src/datastore/etcd/etcd-datastore.ts";
import { spawnDetached } from "../../src/exec/spawn-detached.ts";
import { claimBlock } from "../../src/ipam/claim-block.ts";
import { type IPAMBlockResource, KINDS } from "../../src/model/cluster-resources.ts";
import { ipPool } from "../harness/cluster-objects.ts";
import { invokePlugin } from "../harness/cni-invoke.ts";
import { type EtcdServer, etcdSkipReason, startEtcd } from "../harness/etcd.ts";
import { eventually, GiveUp } from "../harness/eventually.ts";
import { cleanupAllNetns, createNetns, isRoot, type TestNetns, vethBetween } from "../harness/netns.ts";
import { processAlive, stopProcess } from "../harness/stop-process.ts";
import { privateTartanBin } from "../harness/tartan-binary.ts";

const skip = !isRoot || etcdSkipReason !== undefined;
/** What the agents and etcd are given to settle (routes, applies, health). */
const SETTLE = { timeoutMs: 20_000, intervalMs: 100 };

const pids = new Set<number>();

const firstIp = (result: Record<string, unknown> | undefined): string =>
  ((result?.ips ?? []) as { address: string }[])[0]?.address ?? "(no address)";

async function stopPid(pid: number): Promise<void> {
  await stopProcess(pid, 8000);
  pids.delete(pid);
}

describe.skipIf(skip)("block claims on a real etcd", () => {
  let etcd: EtcdServer;
  const clients: EtcdDatastore[] = [];
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await etcd?.cleanup();
  });

  test("16 concurrent claimers of the last free block: exactly one wins", async () => {
    const pool = ipPool("race", "10.240.0.0/24", 26);
    const open = () => {
      const c = new EtcdDatastore({ endpoints: [etcd.endpoint], prefix: "/race" });
      clients.push(c);
      return c;
    };
    const first = open();
    for (const n of ["a", "b", "c"]) await claimBlock(first, pool, n);
    const racers = Array.from({ length: 16 }, open);
    // Warm the connections, so the claims really overlap.
    await Promise.all(racers.map((r) => r.list(KINDS.ipamBlock)));
    const results = await Promise.allSettled(racers.map((r, i) => claimBlock(r, pool, `racer-${i}`)));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect((r.reason as { code?: string }).code).toBe("ipam-pool-exhausted");
    }
    const blocks = (await first.list(KINDS.ipamBlock)).items as IPAMBlockResource[];
    expect(blocks.map((b) => b.spec.cidr).sort()).toEqual([
      "10.240.0.0/26",
      "10.240.0.128/26",
      "10.240.0.192/26",
      "10.240.0.64/26",
    ]);
    expect(blocks.find((b) => b.spec.cidr === "10.240.0.192/26")?.spec.node).toMatch(/^racer-/);
  });
});

describe.skipIf(skip)("tartan agent with etcd, the plugin's nodeBlocks IPAM", () => {
  let bin = "";
  let dir = "";
  let h1: TestNetns;
  let h2: TestNetns;
  let etcdPid = 0;
  const agentPids = new Map<string, number>();
  const pods: TestNetns[] = [];
  const ENDPOINT = "http://198.18.0.1:2379";

  const sock = (node: string) => join(dir, node, "agent.sock");

  async function startAgent(node: string, ns: TestNetns): Promise<void> {
    const cfg = {
      nodeName: node,
      datastore: { type: "etcd", endpoints: [ENDPOINT], prefix: "/tartan-it" },
      backend: "vxlan",
      underlayInterface: "eth0",
      pools: [{ cidr: "10.250.0.0/24", blockSize: 30 }],
      network: "agentnet",
      ipamDataDir: join(dir, node, "ipam"),
      socket: sock(node),
      metricsAddress: "127.0.0.1:9641",
      blockReleaseGraceSeconds: 3600,
      resyncSeconds: 1,
    };
    mkdirSync(join(dir, node), { recursive: true });
    writeFileSync(join(dir, node, "agent.json"), JSON.stringify(cfg));
    const pid = await spawnDetached(
      [
        "ip",
        "netns",
        "exec",
        ns.name,
        join(bin, "tartan"),
        "agent",
        "--config",
        join(dir, node, "agent.json"),
      ],
      { logFile: join(dir, node, "agent.log") },
    );
    pids.add(pid);
    agentPids.set(node, pid);
    await eventually(
      `agent ${node} synced`,
      async () => {
        if (!processAlive(pid)) throw new GiveUp(`agent ${node} exited`);
        return (await fetch("http://agent/v1/healthz", { unix: sock(node) })).ok;
      },
      SETTLE,
    ).catch((e) => {
      throw new Error(`${e.message}\n${agentLog(node)}`);
    });
  }

  const agentLog = (node: string) => {
    const f = join(dir, node, "agent.log");
    return existsSync(f) ? readFileSync(f, "utf8") : "";
  };

  async function metric(node: string, name: string): Promise<number> {
    const text = await (await fetch("http://agent/metrics", { unix: sock(node) })).text();
    const m = text.match(new RegExp(`^${name} (\\S+)$`, "m"));
    return m ? Number(m[1]) : Number.NaN;
  }

  const netconf = (node: string) => ({
    cniVersion: "1.1.0",
    name: "agentnet",
    type: "tartan",
    mode: "routed",
    mtu: 1450,
    ipam: {
      type: "tartan-ipam",
      nodeBlocks: true,
      agentSocket: sock(node),
      dataDir: join(dir, node, "ipam"),
    },
    dataDir: join(dir, node, "state"),
  });

  async function add(node: string, ns: TestNetns, id: string) {
    const pod = await createNetns("pod");
    pods.push(pod);
    return invokePlugin({
      binary: join(bin, "cni", "tartan"),
      command: "ADD",
      containerId: id,
      netns: pod.path,
      ifname: "eth0",
      cniPath: [join(bin, "cni")],
      config: netconf(node),
      hostNetns: ns,
    });
  }

  beforeAll(async () => {
    bin = await privateTartanBin("tt-t-agent-bin-");
    dir = mkdtempSync(join(tmpdir(), "tt-t-agent-"));
    h1 = await createNetns("h1");
    h2 = await createNetns("h2");
    await vethBetween("eth0", { ns: h1, cidr: "198.18.0.1/24" }, { ns: h2, cidr: "198.18.0.2/24" });
    etcdPid = await spawnDetached(
      [
        "ip",
        "netns",
        "exec",
        h1.name,
        "etcd",
        "--name=it",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${ENDPOINT}`,
        `--advertise-client-urls=${ENDPOINT}`,
        "--listen-peer-urls=http://127.0.0.1:2380",
        "--initial-advertise-peer-urls=http://127.0.0.1:2380",
        "--initial-cluster=it=http://127.0.0.1:2380",
      ],
      { logFile: join(dir, "etcd.log") },
    );
    pids.add(etcdPid);
    await eventually(
      "etcd health",
      async () => {
        const r = await h2.exec(["curl", "-sf", `${ENDPOINT}/health`], { allowFailure: true });
        return r.stdout.includes('"health":"true"');
      },
      SETTLE,
    );
    await startAgent("n1", h1);
    await startAgent("n2", h2);
  }, 120_000);

  afterAll(async () => {
    for (const pid of [...pids]) await stopPid(pid);
    await cleanupAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (bin) rmSync(bin, { recursive: true, force: true });
  });

  test("each node claimed its own first block; the nodes route to each other over VXLAN", async () => {
    const s1 = (await (await fetch("http://agent/v1/status", { unix: sock("n1") })).json()) as {
      blocks: string[];
    };
    const s2 = (await (await fetch("http://agent/v1/status", { unix: sock("n2") })).json()) as {
      blocks: string[];
    };
    expect(s1.blocks).toHaveLength(1);
    expect(s2.blocks).toHaveLength(1);
    expect(s1.blocks[0]).not.toBe(s2.blocks[0]);
    // n1 routes n2's block over tartan.vxlan (written by the agent after its sync).
    await eventually(
      "n1's route to n2's block",
      async () => {
        const r = await h1.exec(["ip", "route", "show", s2.blocks[0]!]);
        return r.stdout.includes("tartan.vxlan");
      },
      SETTLE,
    );
    const m = await h1.exec(["curl", "-sf", "http://127.0.0.1:9641/metrics"]);
    expect(m.stdout).toContain("tartan_agent_synced 1");
  }, 30_000);

  test("ADD takes addresses from the node's block and a new block through the agent when it is full", async () => {
    const first = (await (await fetch("http://agent/v1/status", { unix: sock("n1") })).json()) as {
      blocks: string[];
    };
    const claimsBefore = await metric("n1", "tartan_agent_block_claims_total");
    const a = await add("n1", h1, "pod-a");
    expect(a.code).toBe(0);
    const ipA = firstIp(a.json);
    // A /30 block holds one pod address (network, gateway and broadcast are skipped).
    expect(ipA).toBe(`${first.blocks[0]!.split("/")[0]!.replace(/\d+$/, (d) => String(Number(d) + 2))}/32`);
    expect(await metric("n1", "tartan_agent_block_claims_total")).toBe(claimsBefore);
    const b = await add("n1", h1, "pod-b");
    expect(b.code).toBe(0);
    const ipB = firstIp(b.json);
    expect(ipB).not.toBe(ipA);
    expect(await metric("n1", "tartan_agent_block_claims_total")).toBe(claimsBefore + 1);
    const after = (await (await fetch("http://agent/v1/status", { unix: sock("n1") })).json()) as {
      blocks: string[];
    };
    expect(after.blocks).toHaveLength(2);
    // n2 learns of n1's new block and routes it.
    const newBlock = after.blocks.find((x) => x !== first.blocks[0])!;
    await eventually(
      "n2's route to n1's new block",
      async () => {
        const r = await h2.exec(["ip", "route", "show", newBlock]);
        return r.stdout.includes("tartan.vxlan");
      },
      SETTLE,
    );
  }, 60_000);

  test("with the agent down and the blocks full, ADD fails with a clear error", async () => {
    // Stop n1 only once it has caught up with its own new block (a blackhole route per local
    // block): otherwise the restart test below would see that pending write as a restart's write.
    const status = (await (await fetch("http://agent/v1/status", { unix: sock("n1") })).json()) as {
      blocks: string[];
    };
    await eventually(
      "n1's blackholes for all its blocks",
      async () => {
        const r = await h1.exec(["ip", "route", "show", "type", "blackhole", "proto", "201"]);
        return status.blocks.every((b) => r.stdout.includes(b));
      },
      SETTLE,
    );
    await stopPid(agentPids.get("n1")!);
    expect(agentLog("n1")).toContain("kernel state is left in place");
    const c = await add("n1", h1, "pod-c");
    expect(c.code).not.toBe(0);
    expect(c.json?.code).toBe(11); // try again later: the kubelet retries once the agent is back
    expect(String(c.json?.msg)).toContain(`the tartan agent does not answer at ${sock("n1")}`);
  }, 30_000);

  test("a restarted agent diffs against the kernel and writes nothing when nothing changed", async () => {
    const before = await h1.exec(["ip", "-d", "-j", "link", "show", "tartan.vxlan"]);
    const routesBefore = (await h1.exec(["ip", "route", "show", "proto", "201"])).stdout;
    await startAgent("n1", h1);
    // Let it apply at least twice (first sync, then a 1 s resync).
    await eventually(
      "two applies",
      async () => (await metric("n1", "tartan_agent_applies_total")) >= 2,
      SETTLE,
    );
    expect(await metric("n1", "tartan_agent_kernel_changes_total")).toBe(0);
    expect(await metric("n1", "tartan_agent_block_claims_total")).toBe(0);
    const after = await h1.exec(["ip", "-d", "-j", "link", "show", "tartan.vxlan"]);
    expect(JSON.parse(after.stdout)[0].ifindex).toBe(JSON.parse(before.stdout)[0].ifindex);
    expect((await h1.exec(["ip", "route", "show", "proto", "201"])).stdout).toBe(routesBefore);
    // And the plugin works again: the agent claims a block for pod-c.
    const c = await add("n1", h1, "pod-c2");
    expect(c.code).toBe(0);
  }, 60_000);
});
