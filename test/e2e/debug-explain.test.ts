// tartan ipam check|release and tartan explain on a real lab (2 nodes, etcd, agents, the CNI
// plugin, nftables): a leak planted in a node's IPAM store (an address reserved for a container
// that never existed) is found by `ipam check` (exit 1, JSON naming it) and freed by `ipam
// release`, after which the check is clean; an address in use is refused. `explain --probe`
// agrees with the data path for an allowed and a denied pair, names the rule or the isolating
// policy, and `lab matrix` counts the denied pairs as expected. The lab is removed afterwards.
import { afterAll, describe, expect, test } from "bun:test";
import type { Explanation } from "../../src/calc/explain.ts";
import type { ProbeOutcome } from "../../src/cli/explain-probe.ts";
import { openSqliteIpamStore } from "../../src/datastore/local/sqlite-ipam-store.ts";
import { run } from "../../src/exec/run.ts";
import type { IpamCheck } from "../../src/ipam/ipam-check.ts";
import type { IpamShow } from "../../src/ipam/ipam-show.ts";
import type { LabMatrix } from "../../src/lab/lab-matrix.ts";
import { eventually } from "../harness/eventually.ts";
import { labFixture } from "../harness/lab-fixture.ts";

const T = 240_000;
const { tartan, hasEtcd, name } = await labFixture("dbge", "tartan-dbge-e2e-");
const times: string[] = [];

async function tt(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const r = await run([tartan, ...args, "--lab", name], { allowFailure: true, timeoutMs: 120_000, stdin });
  return { code: r.code, out: r.stdout, err: r.stderr };
}
async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await tt(args, stdin);
  if (r.code !== 0) throw new Error(`tartan ${args.join(" ")} failed (${r.code}): ${r.err}${r.out}`);
  return r.out;
}

const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: pg}]
`;

afterAll(() => {
  if (times.length) process.stderr.write(`\ndebug-explain e2e: ${times.join("; ")}\n`);
});

describe.skipIf(!hasEtcd)("ipam check/release and explain on a lab", () => {
  test(
    "lab up: 2 nodes, 3 pods",
    async () => {
      const t0 = performance.now();
      await run([tartan, "lab", "up", "--lab", name, "--nodes", "2", "--ipv6"], { timeoutMs: 180_000 });
      await ok(["lab", "pod", "add", "node-1", "shop/web", "--labels", "app=web"]);
      await ok(["lab", "pod", "add", "node-2", "shop/db", "--labels", "app=db", "--ports", "pg:5432/TCP"]);
      await ok(["lab", "pod", "add", "node-2", "dev/client", "--labels", "app=client"]);
      times.push(`lab up + 3 pods ${Math.round(performance.now() - t0)} ms`);
    },
    T,
  );

  test(
    "ipam show counts the reservations; check is clean; a planted leak is found and released",
    async () => {
      const show = JSON.parse(await ok(["ipam", "show", "-o", "json"])) as IpamShow;
      expect(show.nodes.map((n) => [n.node, n.used])).toEqual([
        ["node-1", 2],
        ["node-2", 4],
      ]);
      expect(show.blocks.every((b) => b.nodeExists && b.capacity > 0)).toBe(true);
      expect(await ok(["ipam", "check"])).toContain("ok: no problems");

      // The leak: an address of node-1's block reserved for a container that never existed.
      const block = show.blocks.find((b) => b.node === "node-1" && !b.cidr.includes(":"))!;
      const leak = block.cidr.replace(/\.\d+\/\d+$/, (m) => `.${Number(m.slice(1).split("/")[0]) + 50}`);
      const labDir = JSON.parse(await ok(["lab", "ls", "-o", "json"])).dir as string;
      const store = openSqliteIpamStore(`${labDir}/node-1/ipam`);
      try {
        store.transaction((tx) =>
          tx.reserve({
            network: "tartan-lab",
            ip: leak,
            containerId: "e2e-leak-0000",
            ifname: "eth0",
            rangeKey: block.cidr,
          }),
        );
      } finally {
        store.close();
      }
      const bad = await tt(["ipam", "check", "-o", "json"]);
      expect(bad.code).toBe(1);
      const check = JSON.parse(bad.out) as IpamCheck;
      expect(check.ok).toBe(false);
      expect(check.problems).toEqual([
        {
          kind: "leaked-address",
          ip: leak,
          node: "node-1",
          detail: expect.stringContaining("no attachment record holds it"),
          fix: expect.stringContaining(`tartan ipam release --ip ${leak}`),
        },
      ]);

      // An address in use is refused; the leak is released; the check is clean again.
      const pods = JSON.parse(await ok(["lab", "ls", "-o", "json"])).pods as { pod: string; ips: string[] }[];
      const webIp = pods.find((p) => p.pod === "shop/web")!.ips[0]!.split("/")[0]!;
      const refused = await tt(["ipam", "release", "--ip", webIp]);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain("is in use: Pod shop/web lists it");
      const released = await tt(["ipam", "release", "--ip", leak]);
      expect(released).toMatchObject({
        code: 0,
        out: `released on node-1: ${leak} (container e2e-leak-000, eth0)\n`,
      });
      const after = await tt(["ipam", "check", "-o", "json"]);
      expect([after.code, (JSON.parse(after.out) as IpamCheck).problems]).toEqual([0, []]);
    },
    T,
  );

  test(
    "explain agrees with a probe: the allowing rule, the isolating policy; lab matrix expects the denial",
    async () => {
      const t0 = performance.now();
      await ok(["apply", "-f", "-"], POLICY);
      const explain = async (src: string, dst: string, port: string) => {
        const r = await tt([
          "explain",
          src,
          dst,
          "--port",
          port,
          "--probe",
          "--timeout-ms",
          "1500",
          "-o",
          "json",
        ]);
        return { code: r.code, e: JSON.parse(r.out) as Explanation & { probe: ProbeOutcome } };
      };
      // Policy takes effect within moments of the apply: poll until reality agrees, bounded.
      const allowed = await eventually(
        "web → db allowed and probed",
        () => explain("shop/web", "shop/db", "5432"),
        {
          timeoutMs: 20_000,
          until: (x) => x.e.probe.agrees === true,
        },
      );
      expect(allowed.code).toBe(0);
      expect(allowed.e.verdict).toBe("allowed");
      expect(allowed.e.ingress.rule).toMatchObject({
        policy: "shop/db-from-web",
        index: 0,
        peer: 0,
        port: 0,
      });
      expect(allowed.e.path).toMatchObject({
        srcNode: "node-1",
        dstNode: "node-2",
        kind: "tunnel",
        backend: "vxlan",
      });
      expect(allowed.e.probe).toMatchObject({ result: "connected", reality: "allowed", agrees: true });

      const denied = await eventually(
        "client → db denied and probed",
        () => explain("dev/client", "shop/db", "5432"),
        {
          timeoutMs: 20_000,
          until: (x) => x.e.probe.agrees === true,
        },
      );
      expect(denied.code).toBe(1);
      expect(denied.e.verdict).toBe("denied");
      expect(denied.e.ingress).toMatchObject({
        isolated: true,
        verdict: "denied",
        policies: ["shop/db-from-web"],
      });
      expect(denied.e.probe).toMatchObject({ result: "no-answer", reality: "denied", agrees: true });

      const table = await tt(["explain", "dev/client", "shop/db", "--port", "5432/TCP"]);
      expect(table.out).toContain(
        "INGRESS  denied: shop/db on node-2: shop/db is isolated for ingress by shop/db-from-web",
      );

      // Into shop/db only web on 5432 is allowed: the responder's 8080 and ping are denied to both
      // peers, and those 4 cells (2 peers × 2 families) are expected, naming the policy. (Allowed
      // cells are not asserted here: on a loaded machine a probe process can time out.)
      const m = await eventually(
        "a matrix with the policy's denials",
        async () =>
          JSON.parse((await tt(["lab", "matrix", "-o", "json", "--timeout-ms", "1500"])).out) as LabMatrix,
        { timeoutMs: 30_000, until: (x) => x.deniedByPolicy === 4 },
      );
      const intoDb = m.cells.filter((c) => c.to === "shop/db");
      expect(intoDb.map((c) => [c.from, c.ping, c.tcp, c.policy])).toEqual(
        intoDb.map((c) => [
          c.from,
          false,
          false,
          { ping: false, tcp: false, deniedBy: ["shop/db-from-web (ingress of shop/db)"] },
        ]),
      );
      expect(m.cells.filter((c) => c.to !== "shop/db").every((c) => c.policy?.ping && c.policy.tcp)).toBe(
        true,
      );
      times.push(`explain + probes + matrix ${Math.round(performance.now() - t0)} ms`);
    },
    T,
  );
});
