// Dead nodes on the lab (decision 0014), with lab-tuned graces (heartbeat 1 s, not ready after
// 6 s, reclaimed after 15 s): a node cut off from the datastore only (nft in its own namespace
// drops the etcd traffic) is marked not ready but keeps its blocks, routes and pod connectivity,
// and is Ready again when the partition heals, with no address handed out twice; a node whose
// agent is stopped and whose underlay link is down is marked not ready, then reclaimed: its Node
// and blocks leave the datastore and its routes, neighbour and FDB entries leave the other nodes.
// One lab for the file, torn down in afterAll (labFixture); the nft table lives in the node's
// namespace only and goes with it. Needs root and etcd: skipped with the reason otherwise.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { run } from "../../src/exec/run.ts";
import type { LabListing } from "../../src/lab/lab-ls.ts";
import type { LabMatrix } from "../../src/lab/lab-matrix.ts";
import type { LabState } from "../../src/lab/lab-state.ts";
import type { ClusterNodeStatus } from "../../src/model/agent-api.ts";
import { eventually } from "../harness/eventually.ts";
import { labFixture } from "../harness/lab-fixture.ts";

const T = 180_000;
const NOT_READY_S = 6;
const RECLAIM_S = 15;
const fx = await labFixture("dead", "tartan-dead-test-");
if (!fx.hasEtcd) console.warn("dead-node: skipped (needs root and the etcd binary on PATH)");

async function lab(args: string[], allowFailure = false) {
  return await run([fx.tartan, "lab", ...args, "--lab", fx.name], { allowFailure, timeoutMs: 120_000 });
}
const state = (): LabState =>
  JSON.parse(readFileSync(`/run/tartan-lab/${fx.name}/lab.json`, "utf8")) as LabState;
const labNode = (n: string) => state().nodes.find((x) => x.name === n)!;

/** GET on an agent's unix socket (a file in the lab dir: no traffic from the root namespace). */
async function agentGet(nodeName: string, path: string): Promise<string> {
  const res = await fetch(`http://tartan-agent${path}`, {
    unix: `${labNode(nodeName).dir}/agent.sock`,
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) throw new Error(`${path} on ${nodeName}: ${res.status}`);
  return await res.text();
}

/** The cluster's Nodes as node-1's agent mirrors them from etcd. */
async function clusterView(): Promise<ClusterNodeStatus[]> {
  return (JSON.parse(await agentGet("node-1", "/v1/status")) as { clusterNodes: ClusterNodeStatus[] })
    .clusterNodes;
}
const viewOf = async (n: string) => (await clusterView()).find((x) => x.name === n);

/** A counter summed over the agents that answer (one of them holds the lease). */
async function metricSum(series: string, nodes: string[]): Promise<number> {
  let sum = 0;
  for (const n of nodes) {
    const text = await agentGet(n, "/metrics").catch(() => "");
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    if (line) sum += Number(line.slice(series.length + 1));
  }
  return sum;
}

async function matrix(): Promise<LabMatrix> {
  return JSON.parse((await lab(["matrix", "-o", "json", "--timeout-ms", "1500"], true)).stdout) as LabMatrix;
}

/** The tartan-owned routing state of a node's kernel, as text: routes, VXLAN neighbours and FDB. */
async function kernelText(n: string): Promise<string> {
  const ns = labNode(n).netns;
  const out = await Promise.all([
    run(["ip", "-n", ns, "route", "show", "proto", "201"], { allowFailure: true }),
    run(["ip", "-n", ns, "neigh", "show", "dev", "tartan.vxlan"], { allowFailure: true }),
    run(["bridge", "-n", ns, "fdb", "show", "dev", "tartan.vxlan"], { allowFailure: true }),
  ]);
  return out.map((r) => r.stdout).join("\n");
}

describe.skipIf(!fx.hasEtcd)("dead nodes: 3 nodes (vxlan), lab-tuned graces", () => {
  beforeAll(async () => {
    await lab([
      "up",
      "--nodes",
      "3",
      "--backend",
      "vxlan",
      "--heartbeat-seconds",
      "1",
      "--node-not-ready-after",
      String(NOT_READY_S),
      "--node-reclaim-after",
      String(RECLAIM_S),
    ]);
    await Promise.all([1, 2, 3].map((i) => lab(["pod", "add", `node-${i}`, `p${i}`])));
    const m = await eventually("a green matrix", () => matrix(), { timeoutMs: 30_000, until: (x) => x.ok });
    expect(m.ok).toBe(true);
  }, T);

  test(
    "a node cut off from the datastore only is marked not ready, keeps its blocks and its pods' connectivity, and comes back",
    async () => {
      const before = await viewOf("node-2");
      expect(before?.ready).toBe(true);
      expect(before?.blocks.length).toBeGreaterThan(0);
      const port = new URL(state().etcd!.endpoint).port || "2379";
      const ns = labNode("node-2").netns;
      // Only node-2's own namespace: its agent's etcd traffic is dropped both ways.
      await run(["ip", "netns", "exec", ns, "nft", "-f", "-"], {
        stdin:
          "table inet tartan-test {\n" +
          `  chain out { type filter hook output priority -10; policy accept; tcp dport ${port} drop; }\n` +
          `  chain in { type filter hook input priority -10; policy accept; tcp sport ${port} drop; }\n` +
          "}\n",
      });
      try {
        const marked = await eventually("node-2 marked not ready", () => viewOf("node-2"), {
          timeoutMs: 40_000,
          intervalMs: 500,
          until: (v) => v?.ready === false,
        });
        expect(marked?.readyReason).toBe("HeartbeatStale");
        const ls = JSON.parse((await lab(["ls", "-o", "json"])).stdout) as LabListing;
        expect(ls.nodes.find((n) => n.name === "node-2")?.readiness).toBe("NotReady (HeartbeatStale)");
        // Past the reclaim grace, with the lease holder having probed it: spared, blocks kept.
        await eventually(
          "the reclaimer sparing node-2 (it answers on the underlay)",
          () => metricSum("tartan_agent_node_reclaims_spared_total", ["node-1", "node-3"]),
          { timeoutMs: 60_000, intervalMs: 1000, until: (n) => n >= 1 },
        );
        await Bun.sleep(3000);
        const during = await viewOf("node-2");
        expect(during?.blocks).toEqual(before!.blocks);
        expect(await metricSum("tartan_agent_node_reclaims_total", ["node-1", "node-3"])).toBe(0);
        const m = await matrix();
        expect(m.cells.filter((c) => !(c.ping && c.tcp))).toEqual([]);
      } finally {
        await run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "tartan-test"], {
          allowFailure: true,
        });
      }
      const back = await eventually("node-2 Ready again", () => viewOf("node-2"), {
        timeoutMs: 60_000,
        intervalMs: 500,
        until: (v) => v?.ready === true,
      });
      expect(back?.blocks).toEqual(before!.blocks);
      // No address handed out twice: every block has one owner, every pod address is unique.
      const view = await clusterView();
      const blocks = view.flatMap((v) => v.blocks);
      expect(new Set(blocks).size).toBe(blocks.length);
      const ips = state().pods.flatMap((p) => p.ips);
      expect(new Set(ips).size).toBe(ips.length);
      const m = await eventually("a green matrix after the partition", () => matrix(), {
        timeoutMs: 30_000,
        until: (x) => x.ok,
        onTimeout: "last",
      });
      expect(m.cells.filter((c) => !(c.ping && c.tcp))).toEqual([]);
    },
    T,
  );

  test(
    "a dead node (agent stopped, underlay link down) is marked not ready, then reclaimed: its routes leave the others",
    async () => {
      const dead = (await viewOf("node-3"))!;
      expect(dead.blocks.length).toBeGreaterThan(0);
      const deadUnderlay = labNode("node-3").underlayAddress;
      const gone = (t: string) => !t.includes(deadUnderlay) && dead.blocks.every((b) => !t.includes(b));
      expect(gone(await kernelText("node-1"))).toBe(false); // it is there to begin with
      await lab(["agent", "stop", "node-3"]);
      const { fabric } = state();
      await run(["ip", "-n", fabric.netns, "link", "set", labNode("node-3").fabricPort, "down"]);

      const marked = await eventually("node-3 marked not ready", () => viewOf("node-3"), {
        timeoutMs: 40_000,
        intervalMs: 500,
        until: (v) => v?.ready === false,
      });
      expect(marked?.blocks).toEqual(dead.blocks); // not yet reclaimed: the longer grace runs
      await eventually("node-3 reclaimed (its Node gone)", () => viewOf("node-3"), {
        timeoutMs: 60_000,
        intervalMs: 500,
        until: (v) => v === undefined,
      });
      const view = await clusterView();
      expect(view.map((v) => v.name)).toEqual(["node-1", "node-2"]);
      expect(view.flatMap((v) => v.blocks).filter((b) => dead.blocks.includes(b))).toEqual([]);
      for (const n of ["node-1", "node-2"]) {
        await eventually(`node-3's routes, neighbours and FDB entries gone from ${n}`, () => kernelText(n), {
          timeoutMs: 20_000,
          intervalMs: 500,
          until: gone,
        });
      }
      expect(await metricSum("tartan_agent_node_reclaims_total", ["node-1", "node-2"])).toBe(1);
      // Its pod's addresses left the datastore with it (policy cannot select their next owner).
      const pods = JSON.parse(
        (await run([fx.tartan, "get", "pods", "-A", "--lab", fx.name, "-o", "json"], { timeoutMs: 30_000 }))
          .stdout,
      ) as { items: { metadata: { name: string }; status?: { podIPs?: unknown[] } }[] };
      const p3 = pods.items.find((p) => p.metadata.name === "p3");
      expect(p3?.status?.podIPs ?? []).toEqual([]);
      expect(pods.items.find((p) => p.metadata.name === "p1")?.status?.podIPs?.length).toBeGreaterThan(0);
      expect(await metricSum("tartan_agent_reclaimer_leader", ["node-1", "node-2"])).toBe(1);
      const ls = JSON.parse((await lab(["ls", "-o", "json"])).stdout) as LabListing;
      expect(ls.nodes.find((n) => n.name === "node-3")?.readiness).toBe("gone");
      // The survivors still reach each other.
      const m = await matrix();
      const survivors = m.cells.filter((c) => !c.from.includes("p3") && !c.to.includes("p3"));
      expect(survivors.length).toBeGreaterThan(0);
      expect(survivors.filter((c) => !(c.ping && c.tcp))).toEqual([]);
    },
    T,
  );
});
