// One poisoned object must not stop a node's policy (issue 12, point 1), on a real lab: a Pod
// written straight into the lab's etcd (around `tartan apply` and the datastore's validation)
// with a newline in its name, and one with a quote and newline in a label, both on node-1 and
// selected by the default-deny below. Before the agent validated what it ingests, the first one
// became its own line of node-1's `nft -f` transaction, every retry failed, and the deny was
// never enforced. Now: the deny applied with `tartan apply` is enforced within seconds (a probe
// that succeeded before fails), `tartan policy status -o json` reports both objects as rejected,
// and node-1's agent log names them. The lab is removed afterwards (also on failure or a crash).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type LabEtcdInfo, labEtcdArgv } from "../../bench/lab/lab-etcd.ts";
import type { PolicyStatus } from "../../src/cli/policy-command.ts";
import { run } from "../../src/exec/run.ts";
import type { LabMatrix } from "../../src/lab/lab-matrix.ts";
import { labPaths } from "../../src/lab/lab-paths.ts";
import { eventually } from "../harness/eventually.ts";
import { pod } from "../harness/k8s-objects.ts";
import { DENY_INGRESS_PROD, labFixture } from "../harness/lab-fixture.ts";

const T = 300_000;
const { tartan, hasEtcd, name, tt } = await labFixture("po", "tartan-poison-e2e-");

const EVIL_NAME = "evil\n}\nflush ruleset";

/** TCP dev/client -> prod/web on every address: true when all connect, false when none does. */
async function clientReachesWeb(): Promise<boolean | "mixed"> {
  const r = await run([tartan, "lab", "matrix", "--lab", name, "-o", "json", "--timeout-ms", "1000"], {
    allowFailure: true,
    timeoutMs: 120_000,
  });
  const m = JSON.parse(r.stdout) as LabMatrix;
  const cells = m.cells.filter((c) => c.from === "dev/client" && c.to === "prod/web");
  if (cells.length === 0) throw new Error(`no cell dev/client -> prod/web in ${JSON.stringify(m.pods)}`);
  const ok = cells.filter((c) => c.tcp).length;
  return ok === cells.length ? true : ok === 0 ? false : "mixed";
}

describe.skipIf(!hasEtcd)("a poisoned object in the lab's etcd", () => {
  test(
    "is rejected and reported; a default-deny applied afterwards is enforced within seconds",
    async () => {
      await tt(["lab", "up", "--lab", name, "--nodes", "2"]);
      await tt(["lab", "pod", "add", "node-1", "prod/web", "--labels", "app=web", "--lab", name]);
      await tt(["lab", "pod", "add", "node-2", "dev/client", "--lab", name]);
      expect(
        await eventually("dev/client reaching prod/web", clientReachesWeb, {
          timeoutMs: 60_000,
          intervalMs: 500,
          until: (v) => v === true,
          onTimeout: "last",
        }),
      ).toBe(true);

      // Straight into etcd, from inside the fabric namespace: no tartan validation on the way.
      const paths = labPaths(name);
      const state = JSON.parse(readFileSync(paths.stateFile, "utf8")) as { etcd: LabEtcdInfo };
      const poisoned = [
        pod(`prod/${EVIL_NAME}`, ["10.244.255.250"], { node: "node-1" }),
        pod("prod/labelled", ["10.244.255.251"], { node: "node-1", labels: { app: 'x"\ny' } }),
      ];
      const put = await run(
        [
          "ip",
          "netns",
          "exec",
          paths.fabricNetns,
          process.execPath,
          resolve(import.meta.dir, "../harness/etcd-put-raw.ts"),
          // The lab's etcd takes only TLS clients with its certificate (decision 0013).
          ...labEtcdArgv(state.etcd),
        ],
        { stdin: JSON.stringify(poisoned), allowFailure: true, timeoutMs: 30_000 },
      );
      expect(put.stderr).toBe("");
      expect(put.code).toBe(0);

      // The deny goes through `tartan apply` (validated) and must be enforced within seconds.
      const t0 = performance.now();
      await tt(["apply", "--lab", name, "-f", "-"], DENY_INGRESS_PROD);
      expect(
        await eventually("dev/client blocked from prod/web by the default-deny", clientReachesWeb, {
          timeoutMs: 15_000,
          intervalMs: 250,
          until: (v) => v === false,
          onTimeout: "last",
        }),
      ).toBe(false);
      const seconds = (performance.now() - t0) / 1000;
      expect(seconds).toBeLessThan(15);

      // Both nodes' agents report both objects (every agent mirrors every Pod).
      const status = JSON.parse(await tt(["policy", "status", "--lab", name, "-o", "json"])) as PolicyStatus;
      for (const n of status.nodes) {
        const rejected = n.problems.filter((p) => p.code === "object-rejected").map((p) => p.object);
        expect({ node: n.node, rejected: rejected.sort() }).toEqual({
          node: n.node,
          rejected: [`prod/${EVIL_NAME}`, "prod/labelled"].sort(),
        });
      }
      const node1 = status.nodes.find((n) => n.node === "node-1")!;
      expect(node1.pods.map((p) => `${p.namespace}/${p.name}`)).toEqual(["prod/web"]);

      // node-1's agent log names each rejected object once (per version, not per apply).
      const log = readFileSync(`${paths.nodeDir("node-1")}/agent.log`, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { msg: string; object?: string; kind?: string; errors?: string[] });
      const rejections = log.filter((l) => l.msg.startsWith("object rejected"));
      expect(rejections.map((l) => l.object).sort()).toEqual([`prod/${EVIL_NAME}`, "prod/labelled"].sort());
      expect(rejections.find((l) => l.object === `prod/${EVIL_NAME}`)?.errors?.join(" ")).toContain(
        "metadata.name",
      );
      // No policy apply failed on node-1 since the poisoned objects arrived.
      expect(log.filter((l) => l.msg === "policy apply failed; retrying")).toEqual([]);
      process.stderr.write(`poisoned-object: default-deny enforced ${seconds.toFixed(1)} s after apply\n`);
    },
    T,
  );
});
