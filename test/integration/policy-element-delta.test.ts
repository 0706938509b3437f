// Per-set element deltas on the real nftables, in a tt-t-* namespace of the test's own: at a
// cluster of 2000 pods, a remote pod's membership change (label flip, new pod, pod gone, IP
// change) gives a script of `add element` / `delete element` lines only, nft accepts it, and
// the kernel's sets then equal the full render of a full compile of the same objects. The
// changes go to the kernel as the agent sends them: nf_tables netlink element batches.
import { afterAll, describe, expect, test } from "bun:test";
import { benchNamespaces, benchPod, benchPolicy } from "../../bench/policy/synthetic-cluster.ts";
import { compilePolicy } from "../../src/calc/compile-policy.ts";
import { IncrementalPolicy } from "../../src/calc/policy-incremental.ts";
import { LinuxNft } from "../../src/dataplane/linux/linux-nft.ts";
import type { PodResource } from "../../src/model/k8s-resources.ts";
import { parsePolicyState } from "../../src/render/policy-kernel-state.ts";
import { policyStateOf, renderPolicyDelta } from "../../src/render/policy-nft.ts";
import { cleanupAllNetns, createNetns, deleteNetns, isRoot } from "../harness/netns.ts";

afterAll(cleanupAllNetns);

const key = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace}/${o.metadata.name}`;

describe.skipIf(!isRoot)("policy element deltas in the kernel", () => {
  test("membership changes write elements only; the kernel's sets equal the full render", async () => {
    const ns = await createNetns("pold");
    const nft = new LinuxNft();
    try {
      const LOCAL = 20;
      const namespaces = benchNamespaces();
      const pods = new Map<string, PodResource>();
      for (let i = 0; i < 2000; i++) pods.set(key(benchPod(i, LOCAL)), benchPod(i, LOCAL));
      const policies = Array.from({ length: 100 }, (_, j) => benchPolicy(j));
      const inc = new IncrementalPolicy("node-1");
      for (const n of namespaces) inc.setNamespace(n.metadata.name, n);
      for (const p of policies) inc.setPolicy(key(p), p);
      for (const [k, p] of pods) inc.setPod(k, p);
      let ir = inc.compile();
      await nft.apply(ns.path, renderPolicyDelta(parsePolicyState(undefined), ir).script);
      let state = policyStateOf(ir);
      const put = (p: PodResource | undefined, k: string) => {
        if (p) pods.set(k, p);
        else pods.delete(k);
        inc.setPod(k, p);
      };
      // Remote pods (i >= LOCAL) in namespaces whose shape-0 policies admit tier=web pods.
      const changes: [string, () => void][] = [];
      for (let t = 0; t < 6; t++) {
        const i = 25 + 5 * t;
        const orig = benchPod(i, LOCAL);
        changes.push([
          `label flip of ${key(orig)}`,
          () => {
            const l = orig.metadata.labels!;
            put(benchPod(i, LOCAL, { ...l, tier: l.tier === "web" ? "api" : "web" }), key(orig));
          },
        ]);
      }
      const fresh = benchPod(3000, LOCAL, { app: "app-1", tier: "web", ver: "v1" });
      fresh.status = { phase: "Running", podIPs: [{ ip: "10.244.250.1" }] };
      changes.push(["new pod", () => put(fresh, key(fresh))]);
      changes.push(["pod gone", () => put(undefined, key(benchPod(30, LOCAL)))]);
      const moved = benchPod(35, LOCAL);
      moved.status = { phase: "Running", podIPs: [{ ip: "10.244.250.2" }] };
      changes.push(["IP change", () => put(moved, key(moved))]);
      let elementLines = 0;
      for (const [what, change] of changes) {
        change();
        ir = inc.compile();
        const delta = renderPolicyDelta(state, ir);
        const body = delta.script.split("\n").filter((l) => l !== "" && l !== "add table inet tartan");
        expect({ what, other: body.filter((l) => !/^(add|delete) element inet tartan /.test(l)) }).toEqual({
          what,
          other: [],
        });
        elementLines += body.length;
        // Element-only over plain address sets: offered as an element batch, sent over netlink.
        expect({ what, batch: delta.elements !== undefined }).toEqual({ what, batch: delta.script !== "" });
        if (delta.elements) await nft.applyElements(ns.path, "tartan", delta.elements);
        state = policyStateOf(ir);
      }
      expect(elementLines).toBeGreaterThan(0);
      const full = compilePolicy({
        nodeName: "node-1",
        pods: [...pods.values()],
        namespaces,
        policies,
      });
      const kernel = parsePolicyState(await nft.listJson(ns.path, "inet", "tartan"));
      const want = policyStateOf(full);
      expect([...kernel.sets.keys()].sort()).toEqual([...want.sets.keys()].sort());
      for (const [n, s] of want.sets) {
        const k = kernel.sets.get(n)!;
        // The kernel lists elements in text order; named-port sets sort by (addr, port) in the IR.
        expect({ n, elements: [...k.elements].sort() }).toEqual({ n, elements: [...s.elements].sort() });
      }
      // And a full delta from the kernel to the full compile has nothing to write.
      expect(renderPolicyDelta(kernel, full).script).toBe("");
    } finally {
      await deleteNetns(ns.name);
    }
  }, 120_000);
});
