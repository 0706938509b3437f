// The lab in Kubernetes mode (issue 8 point 7): `tartan lab up --datastore kubernetes` runs the
// stand-in API server (src/lab/kube-apiserver/) on the lab's etcd and agents in Kubernetes mode;
// pods are created through the API and then wired by CNI ADD, as kubelet does. Policies go in
// and out with the real kubectl (`tartan lab kubectl -- apply -f -`), and a representative
// subset of the upstream NetworkPolicy scenarios (test/harness/netpol, all of them run in etcd
// mode by netpol-scenarios.test.ts) must give the same 9×9 matrices. Set TARTAN_LONG_TESTS=1 to
// run every scenario in this mode too. The lab is removed afterwards (also on failure).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { run } from "../../src/exec/run.ts";
import { KUBECTL_1_20 } from "../harness/kubectl.ts";
import { isRoot } from "../harness/netns.ts";
import { CASES, EXTRA_CASES } from "../harness/netpol/cases.ts";
import { NetpolLab } from "../harness/netpol/netpol-lab.ts";
import { runNetpolCase } from "../harness/netpol/run-netpol-case.ts";
import { privateTartanBin } from "../harness/tartan-binary.ts";

const T = 120_000;
/** Cases of every kind: deny, deny-all, pod OR namespace selectors, egress to a named port, a namespace label update, the default namespace label, dual-stack. */
const SUBSET = ["1", "2", "9", "19", "21", "42", "dual-stack"];

// The machine's kubectl, else Debian's 1.20 unpacked by scripts/ensure-kubectl.sh.
if (!process.env.TARTAN_KUBECTL && !Bun.which("kubectl") && existsSync(KUBECTL_1_20)) {
  process.env.TARTAN_KUBECTL = KUBECTL_1_20;
}
const hasEtcd =
  isRoot && (await run(["etcd", "--version"], { allowFailure: true }).catch(() => null))?.code === 0;
const hasKubectl = Boolean(process.env.TARTAN_KUBECTL || Bun.which("kubectl"));
const skip = !hasEtcd
  ? "needs root and etcd"
  : !hasKubectl
    ? "no kubectl (bash scripts/ensure-kubectl.sh)"
    : undefined;
if (skip) console.warn(`Kubernetes-mode lab tests skipped: ${skip}`);
const bin = skip ? "" : await privateTartanBin("tartan-netpol-k8s-e2e-");
// Probes get more time than in netpol-scenarios.test.ts: this file runs beside it in CI, and on a
// loaded machine a whole source row can miss 600 ms (a probe process starved of CPU).
const lab = new NetpolLab(`${bin}/tartan`, `nk${Math.random().toString(36).slice(2, 8)}`, "kubernetes", {
  probeMs: 2000,
  settleMs: 20_000,
});
const results: string[] = [];

process.on("exit", () => lab.downSync());
beforeAll(async () => {
  if (skip) return;
  const t0 = performance.now();
  await lab.start(3);
  results.push(`lab up (Kubernetes mode) with 9 pods: ${Math.round(performance.now() - t0)} ms`);
}, 300_000);
afterAll(async () => {
  await lab.down();
  if (bin) rmSync(bin, { recursive: true, force: true });
  if (results.length)
    process.stderr.write(
      `\nNetworkPolicy scenarios, Kubernetes mode:\n${results.map((r) => `  ${r}`).join("\n")}\n`,
    );
});

describe.skipIf(skip !== undefined)("lab in Kubernetes mode", () => {
  test("lab kubectl -- get pods -o wide lists every lab pod with its IP and node; the Pods carry kubelet's status", async () => {
    const wide = (
      await lab.cli(["lab", "kubectl", "--lab", lab.name, "--", "get", "pods", "-A", "-o", "wide"])
    ).out;
    for (const p of lab.pods) {
      expect(wide).toMatch(
        new RegExp(
          `${p.namespace}\\s+${p.name}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${p.ip4.replaceAll(".", "\\.")}\\s+${p.node}`,
        ),
      );
    }
    const json = JSON.parse(
      (await lab.cli(["lab", "kubectl", "--lab", lab.name, "--", "get", "pod", "a", "-n", "x", "-o", "json"]))
        .out,
    );
    const xa = lab.pod("x/a");
    expect(json.status.podIPs.map((i: { ip: string }) => i.ip)).toEqual([xa.ip4, xa.ip6]);
    expect(json.spec.nodeName).toBe(xa.node);
    // The agents' side: Nodes published, blocks claimed as custom resources.
    const nodes = (await lab.cli(["lab", "kubectl", "--lab", lab.name, "--", "get", "nodes", "-o", "name"]))
      .out;
    expect(nodes.trim().split("\n").sort()).toEqual(["node/node-1", "node/node-2", "node/node-3"]);
    const blocks = (
      await lab.cli(["lab", "kubectl", "--lab", lab.name, "--", "get", "ipamblocks", "-o", "name"])
    ).out;
    expect(blocks.trim().split("\n").length).toBeGreaterThanOrEqual(3);
  });

  const all = process.env.TARTAN_LONG_TESTS === "1";
  for (const c of [...CASES, ...EXTRA_CASES]) {
    if (c.requires === "SCTP") continue;
    if (!all && !SUBSET.includes(c.id)) continue;
    test(`${c.id}: ${c.title}`, () => runNetpolCase(lab, c, results), T);
  }
});
