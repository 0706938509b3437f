// The lab's underlay on the real kernel (src/lab/underlay-plan.ts), four nodes and the fabric in
// test namespaces: every node reaches every other node and its gateway without creating a single
// dynamic ARP entry — all of them are the plan's permanent ones, with the MACs the plan gave the
// interfaces. Why it matters: the kernel's neighbour table is shared by all namespaces and capped
// (gc_thresh3, default 1024) for non-permanent entries only; a 50-node BGP lab needs ~2550 and
// used to lose ARP entries, connects and keepalives (sessions Idle/Passive for ever).
// Every namespace is removed, also on failure.
import { afterAll, describe, expect, test } from "bun:test";
import { run } from "../../src/exec/run.ts";
import { planUnderlay } from "../../src/lab/underlay-plan.ts";
import { cleanupAllNetns, createNetns, isRoot, type TestNetns } from "../harness/netns.ts";

const NODES = 4;

interface Neigh {
  dst: string;
  lladdr?: string;
  state?: string[];
}

async function neighbours(ns: string): Promise<Neigh[]> {
  const r = await run(["ip", "-n", ns, "-j", "-4", "neigh", "show", "nud", "all"]);
  // NOARP: multicast addresses (IGMP on the bridge), mapped without resolution.
  return (JSON.parse(r.stdout || "[]") as Neigh[]).filter((e) => !e.state?.includes("NOARP"));
}

describe.skipIf(!isRoot)("lab underlay: static neighbours", () => {
  afterAll(async () => {
    await cleanupAllNetns();
  });

  test("nodes and fabric reach each other with permanent neighbour entries only", async () => {
    const fabric = await createNetns("fab");
    const nodes: TestNetns[] = [];
    for (let i = 0; i < NODES; i++) nodes.push(await createNetns(`n${i + 1}`));
    const plan = planUnderlay((i) => nodes[i - 1]!.name, NODES, 1);
    await run(["ip", "-n", fabric.name, "-batch", "-"], { stdin: `${plan.fabricLines.join("\n")}\n` });
    for (const n of plan.nodes)
      await run(["ip", "-n", n.netns, "-batch", "-"], { stdin: `${n.nodeLines.join("\n")}\n` });

    // Traffic between every pair and to the gateway (and the fabric to every node).
    const targets = [plan.bridges[0]!.gateway, ...plan.nodes.map((n) => n.address)];
    for (const n of plan.nodes) {
      for (const t of targets) {
        if (t === n.address) continue;
        const r = await run(["ip", "netns", "exec", n.netns, "ping", "-n", "-q", "-c", "1", "-W", "2", t], {
          allowFailure: true,
        });
        expect({ from: n.name, to: t, code: r.code }).toEqual({ from: n.name, to: t, code: 0 });
      }
    }
    for (const n of plan.nodes) {
      const r = await fabric.exec(["ping", "-n", "-q", "-c", "1", "-W", "2", n.address], {
        allowFailure: true,
      });
      expect(r.code).toBe(0);
    }

    for (const n of plan.nodes) {
      const link = JSON.parse((await run(["ip", "-n", n.netns, "-j", "link", "show", "eth0"])).stdout) as {
        address: string;
      }[];
      expect(link[0]!.address).toBe(n.mac);
      const got = await neighbours(n.netns);
      // Exactly the gateway and the 3 other nodes, all permanent, with the planned MACs.
      expect(got.map((e) => [e.dst, e.lladdr, e.state?.join(",")]).sort()).toEqual(
        [
          [plan.bridges[0]!.gateway, "02:00:c6:12:00:01", "PERMANENT"],
          ...plan.nodes.filter((p) => p !== n).map((p) => [p.address, p.mac, "PERMANENT"]),
        ].sort(),
      );
    }
    const fab = await neighbours(fabric.name);
    expect(fab.filter((e) => e.state?.join(",") !== "PERMANENT")).toEqual([]);
    expect(fab.map((e) => e.dst).sort()).toEqual(plan.nodes.map((n) => n.address).sort());
  }, 60_000);
});
