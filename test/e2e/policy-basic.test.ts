// NetworkPolicy end to end on a real lab (2 nodes, real etcd, agents, CNI plugin, nftables in the
// node namespaces): a default-deny in a namespace blocks new connections to its pods (same node
// and across nodes), an allow policy opens exactly what it names, a pod added under the deny is
// isolated the moment its ADD returns (fail-closed ADD), drops are counted per pod, and removing
// the policies restores everything. The lab is removed afterwards (also on failure or a crash).
import { describe, expect, test } from "bun:test";
import { run } from "../../src/exec/run.ts";
import type { LabMatrix } from "../../src/lab/lab-matrix.ts";
import type { PolicyDropRow } from "../../src/model/agent-api.ts";
import { eventually } from "../harness/eventually.ts";
import { DENY_INGRESS_PROD, labFixture } from "../harness/lab-fixture.ts";

const T = 300_000;
const { tartan, hasEtcd, name, tt } = await labFixture("pb", "tartan-policy-e2e-");

const ALLOW = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-dev, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: dev}}}]
    ports: [{port: http}]
`;

async function matrix(): Promise<LabMatrix> {
  const r = await run([tartan, "lab", "matrix", "--lab", name, "-o", "json", "--timeout-ms", "1500"], {
    allowFailure: true,
    timeoutMs: 120_000,
  });
  return JSON.parse(r.stdout) as LabMatrix;
}

/** TCP from -> to on every address of `to`: true when all connect, false when none does. */
function tcp(m: LabMatrix, from: string, to: string): boolean | "mixed" {
  const cells = m.cells.filter((c) => c.from === from && c.to === to);
  if (cells.length === 0) throw new Error(`no cell ${from} -> ${to} in ${JSON.stringify(m.pods)}`);
  const ok = cells.filter((c) => c.tcp).length;
  return ok === cells.length ? true : ok === 0 ? false : "mixed";
}

/** Polls the matrix until every expectation holds (policy changes take effect within seconds). */
async function until(
  expect_: Record<string, boolean>,
  timeoutMs = 30_000,
): Promise<Record<string, boolean | "mixed">> {
  const observe = async () => {
    const m = await matrix();
    return Object.fromEntries(
      Object.keys(expect_).map((k) => {
        const [from, to] = k.split(" -> ") as [string, string];
        return [k, tcp(m, from, to)];
      }),
    );
  };
  return await eventually("the expected matrix", observe, {
    timeoutMs,
    intervalMs: 500,
    until: (got) => Object.keys(expect_).every((k) => got[k] === expect_[k]),
    onTimeout: "last",
  });
}

describe.skipIf(!hasEtcd)("NetworkPolicy on the lab", () => {
  test(
    "default-deny blocks, an allow policy opens what it names, new pods are isolated at ADD, drops are counted",
    async () => {
      await tt(["lab", "up", "--lab", name, "--nodes", "2"]);
      await tt([
        "lab",
        "pod",
        "add",
        "node-1",
        "prod/web",
        "--labels",
        "app=web",
        "--ports",
        "http:8080/TCP",
        "--lab",
        name,
      ]);
      await tt(["lab", "pod", "add", "node-1", "prod/other", "--lab", name]);
      await tt(["lab", "pod", "add", "node-2", "dev/client", "--lab", name]);
      const open = {
        "dev/client -> prod/web": true,
        "prod/other -> prod/web": true,
        "dev/client -> prod/other": true,
        "prod/web -> dev/client": true,
      };
      expect(await until(open, 60_000)).toEqual(open);

      await tt(["apply", "--lab", name, "-f", "-"], DENY_INGRESS_PROD);
      const denied = {
        "dev/client -> prod/web": false, // across nodes
        "prod/other -> prod/web": false, // same node, same namespace
        "dev/client -> prod/other": false,
        "prod/web -> dev/client": true, // dev is not isolated; prod's egress is not either
      };
      expect(await until(denied)).toEqual(denied);

      // A pod added under the deny is isolated when its ADD returns: the very first probe fails.
      await tt(["lab", "pod", "add", "node-2", "prod/late", "--lab", name]);
      expect(tcp(await matrix(), "dev/client", "prod/late")).toBe(false);

      await tt(["apply", "--lab", name, "-f", "-"], ALLOW);
      const allowed = {
        "dev/client -> prod/web": true,
        "prod/other -> prod/web": false,
        "dev/client -> prod/other": false,
        "dev/client -> prod/late": false,
        "prod/web -> dev/client": true,
      };
      expect(await until(allowed)).toEqual(allowed);

      const drops = JSON.parse(await tt(["policy", "drops", "--lab", name, "-o", "json"])) as {
        drops: (PolicyDropRow & { node: string })[];
      };
      const web = drops.drops.find((d) => d.pod === "web" && d.direction === "ingress")!;
      expect(web.node).toBe("node-1");
      expect(web.packets).toBeGreaterThan(0);
      expect(web.policies.sort()).toEqual(["default-deny", "web-from-dev"]);
      const status = JSON.parse(
        await tt(["policy", "status", "--lab", name, "--node", "node-1", "-o", "json"]),
      );
      expect(status.nodes[0].problems).toEqual([]);

      await tt(["delete", "--lab", name, "-f", "-"], `${DENY_INGRESS_PROD}---\n${ALLOW}`);
      const reopened = { ...open, "dev/client -> prod/late": true };
      expect(await until(reopened)).toEqual(reopened);
      // Nothing of policy is left in the nodes' tables.
      for (const node of ["node-1", "node-2"]) {
        const t = await run(
          ["ip", "netns", "exec", `tl-${name}-${node}`, "nft", "list", "table", "inet", "tartan"],
          {
            allowFailure: true,
          },
        );
        expect(t.stdout).not.toMatch(/policy-forward|chain ing\//);
      }
      await tt(["lab", "down", "--lab", name]);
    },
    T,
  );
});
