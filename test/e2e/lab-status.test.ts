// tartan status, diagnose and get on a real lab (issue 9, points 1, 5 and 7): every node healthy
// with its peers programmed; then one agent stopped: status still answers for the others, names
// the dead one with the reason and exits 1 within a bounded time, and so do policy status and
// diagnose, whose bundle still holds the stopped node's kernel state and log. `get` lists the
// agents' kinds, filters with -l, prints -o name, and `--watch` sees a change. The lab is removed
// afterwards (also on failure or a crash). Last, an etcd outage: every node says so, exit 1.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { StatusNode } from "../../src/cli/node-verdict.ts";
import type { PolicyStatus } from "../../src/cli/policy-command.ts";
import { untarGz } from "../../src/cli/tar-gz.ts";
import { run } from "../../src/exec/run.ts";
import { eventually } from "../harness/eventually.ts";
import { labFixture } from "../harness/lab-fixture.ts";

const T = 300_000;
const { tartan, hasEtcd, name } = await labFixture("dbgs", "tartan-status-e2e-");
const L = ["--lab", name];

async function tt(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await run([tartan, ...args], { allowFailure: true, timeoutMs: 120_000 });
  return { code: r.code, out: r.stdout, err: r.stderr };
}
async function ok(args: string[]): Promise<string> {
  const r = await tt(args);
  if (r.code !== 0) throw new Error(`tartan ${args.join(" ")} failed (${r.code}): ${r.err}${r.out}`);
  return r.out;
}
const statusJson = async () => {
  const r = await tt(["status", ...L, "-o", "json"]);
  return { code: r.code, nodes: (JSON.parse(r.out) as { nodes: StatusNode[] }).nodes };
};

describe.skipIf(!hasEtcd)("status, diagnose and get on a lab", () => {
  test(
    "healthy, then one agent down: partial answers, exit 1, a bundle with the dead node's state",
    async () => {
      await ok(["lab", "up", ...L, "--nodes", "3"]);
      await ok(["lab", "pod", "add", "node-1", "web", "--labels", "app=web", ...L]);
      await ok(["lab", "pod", "add", "node-2", "db", "--labels", "app=db", ...L]);

      // 1. Healthy: every node ready, each with its two peers programmed, exit 0.
      const healthy = await eventually("every node healthy", statusJson, {
        timeoutMs: 60_000,
        intervalMs: 1000,
        until: (s) => s.code === 0,
        onTimeout: "last",
      });
      expect(healthy.code).toBe(0);
      expect(healthy.nodes.map((n) => [n.name, n.ready, n.backend])).toEqual([
        ["node-1", true, "vxlan"],
        ["node-2", true, "vxlan"],
        ["node-3", true, "vxlan"],
      ]);
      for (const n of healthy.nodes) {
        expect(n.peers.map((p) => [p.name, p.ok])).toEqual(
          ["node-1", "node-2", "node-3"].filter((x) => x !== n.name).map((x) => [x, true]),
        );
        expect(n.agent?.datastore).toMatchObject({ reachable: true, behind: 0 });
      }
      expect(healthy.nodes[0]?.agent?.pods).toBe(1);

      // 2. get: the agents' kinds, -o name, -l, and --watch seeing a label change.
      expect((await ok(["get", "nodes", ...L, "-o", "name"])).trim().split("\n")).toEqual([
        "node/node-1",
        "node/node-2",
        "node/node-3",
      ]);
      expect((await ok(["get", "ipamblocks", ...L, "-o", "name"])).trim().split("\n")).toHaveLength(3);
      expect(await ok(["get", "ippools", ...L])).toContain("10.244.0.0/16");
      expect(await ok(["get", "pods", "-A", "-l", "app=web", ...L, "-o", "name"])).toBe("pod/web\n");
      expect(await ok(["get", "nodes", ...L, "-o", "wide"])).toMatch(/VTEP-MAC/);
      const watching = run([tartan, "get", "pods", "--watch", "--watch-seconds", "6", "-o", "json", ...L], {
        allowFailure: true,
        timeoutMs: 60_000,
      });
      await Bun.sleep(2000);
      await ok(["label", "pod", "db", "tier=backend", ...L]);
      const watched = await watching;
      expect(watched.code).toBe(0);
      const events = watched.stdout
        .trim()
        .split("\n")
        .map(
          (l) => JSON.parse(l) as { type: string; object: { metadata: { name: string; labels?: object } } },
        );
      expect(events.filter((e) => e.type === "ADDED").map((e) => e.object.metadata.name)).toEqual([
        "db",
        "web",
      ]);
      expect(events.find((e) => e.type === "MODIFIED")?.object.metadata).toMatchObject({
        name: "db",
        labels: { app: "db", tier: "backend" },
      });

      // 3. node-3's agent stopped: answers for node-1 and node-2, node-3 unreachable, exit 1, fast.
      await ok(["lab", "agent", "stop", "node-3", ...L]);
      const t0 = performance.now();
      const down = await statusJson();
      const ms = performance.now() - t0;
      expect(ms).toBeLessThan(20_000);
      expect(down.code).toBe(1);
      expect(down.nodes.map((n) => [n.name, n.ready, n.reachable])).toEqual([
        ["node-1", true, true],
        ["node-2", true, true],
        ["node-3", false, false],
      ]);
      expect(down.nodes[2]?.verdict).toContain("agent unreachable");
      expect(down.nodes[2]?.verdict).toContain("no socket there");
      const table = await tt(["status", ...L]);
      expect(table.code).toBe(1);
      expect(table.out).toMatch(/node-3\s+NO\s+vxlan\s+unreachable/);
      const policy = await tt(["policy", "status", ...L, "-o", "json"]);
      expect(policy.code).toBe(1);
      const ps = JSON.parse(policy.out) as PolicyStatus;
      expect(ps.nodes.map((n) => n.node)).toEqual(["node-1", "node-2"]);
      expect(ps.unreachable.map((u) => u.node)).toEqual(["node-3"]);
      console.log(`status with one agent down answered in ${Math.round(ms)} ms`);

      // 4. diagnose: the bundle holds every node's state, the stopped one's too, and no secret.
      const dir = mkdtempSync(`${tmpdir()}/tt-diag-`);
      try {
        const file = `${dir}/bundle.tar.gz`;
        const d = await tt(["diagnose", ...L, "-o", file]);
        expect(d.code).toBe(1);
        expect(d.err).toContain("node-3: agent unreachable");
        const files = untarGz(readFileSync(file));
        const top = "tartan-diagnose";
        for (const f of ["MANIFEST.txt", "version.txt", "status.json", "status.txt"])
          expect(files.has(`${top}/${f}`)).toBe(true);
        for (const node of ["node-1", "node-2", "node-3"]) {
          for (const f of [
            "config.yaml",
            "nft-ruleset.txt",
            "routes.txt",
            "neighbours.txt",
            "fdb.txt",
            "ipam.json",
            "agent.log",
          ])
            expect({ node, f, present: files.has(`${top}/${node}/${f}`) }).toEqual({
              node,
              f,
              present: true,
            });
          expect(files.get(`${top}/${node}/routes.txt`)).toContain("dev tartan.vxlan");
          expect(files.get(`${top}/${node}/fdb.txt`)).toContain("dst 198.18.");
        }
        expect(files.get(`${top}/node-1/ipam.json`)).toContain('"addresses": 1');
        expect(files.get(`${top}/node-3/agent.log`)).toContain("agent stopping");
        expect(files.get(`${top}/MANIFEST.txt`)).toContain("node-3: agent unreachable");
        expect(files.get(`${top}/version.txt`)).toMatch(/^tartan \d/);
        expect(files.get(`${top}/node-1/config.yaml`)).toContain("keyFile: /run/tartan-lab/");
        const all = [...files.values()].join("\n");
        expect(all).not.toContain("PRIVATE KEY-----\nMI");
        expect(readFileSync(file).length).toBeLessThan(16 << 20);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }

      // 5. Back: the agent started again, every node healthy, exit 0.
      await ok(["lab", "agent", "start", "node-3", ...L]);
      const back = await eventually("every node healthy again", statusJson, {
        timeoutMs: 60_000,
        intervalMs: 1000,
        until: (s) => s.code === 0,
        onTimeout: "last",
      });
      expect(back.nodes.every((n) => n.ready)).toBe(true);

      // 6. etcd down: every agent answers, each node NOT READY because of the datastore, quickly.
      await ok(["lab", "etcd", "stop", ...L]);
      const t1 = performance.now();
      const noEtcd = await statusJson();
      expect(performance.now() - t1).toBeLessThan(20_000);
      expect(noEtcd.code).toBe(1);
      for (const n of noEtcd.nodes) {
        expect({ node: n.name, reachable: n.reachable, ready: n.ready }).toEqual({
          node: n.name,
          reachable: true,
          ready: false,
        });
        expect(n.agent?.datastore.reachable).toBe(false);
        expect(n.verdict).toStartWith("datastore unreachable");
      }
      await ok(["lab", "etcd", "start", ...L]);
      const again = await eventually("healthy after etcd is back", statusJson, {
        timeoutMs: 60_000,
        intervalMs: 1000,
        until: (s) => s.code === 0,
        onTimeout: "last",
      });
      expect(again.code).toBe(0);
      await ok(["lab", "down", ...L]);
    },
    T,
  );
});
