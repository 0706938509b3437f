// Policy scripts against the real nftables, in tt-t-* namespaces only: nft accepts the full
// script of every feature, what it lists back equals the IR (a second apply writes nothing),
// a label change is a small delta, and the manager's resync restores what was removed from
// outside, never touching the table's other chains (ipMasq).
import { afterAll, describe, expect, test } from "bun:test";
import { PolicyManager } from "../../src/agent/policy-manager.ts";
import { compilePolicy } from "../../src/calc/compile-policy.ts";
import type { PolicySnapshot } from "../../src/calc/policy-ir.ts";
import type { NetnsRef } from "../../src/dataplane/dataplane.ts";
import { LinuxNft } from "../../src/dataplane/linux/linux-nft.ts";
import type { NftTable } from "../../src/dataplane/nft-table.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { renderMasqueradeAdd } from "../../src/render/masquerade-nft.ts";
import { parsePolicyState } from "../../src/render/policy-kernel-state.ts";
import { renderPolicyDelta, renderPolicyFull } from "../../src/render/policy-nft.ts";
import { hostilePolicyIr } from "../harness/hostile-policy-ir.ts";
import { namespace, netpol, pod } from "../harness/k8s-objects.ts";
import { cleanupAllNetns, createNetns, deleteNetns, isRoot, type TestNetns } from "../harness/netns.ts";

afterAll(cleanupAllNetns);

/** The manager writes to "its own" namespace (null); here that is the test's namespace. */
class NetnsNft implements NftTable {
  private readonly inner = new LinuxNft();
  constructor(private readonly ns: TestNetns) {}
  apply(_n: NetnsRef, script: string) {
    return this.inner.apply(this.ns.path, script);
  }
  list(_n: NetnsRef, f: string, t: string) {
    return this.inner.list(this.ns.path, f, t);
  }
  listJson(_n: NetnsRef, f: string, t: string) {
    return this.inner.listJson(this.ns.path, f, t);
  }
}

const web = pod("prod/web", ["10.0.0.1", "fd00::1"], {
  labels: { app: "web" },
  ports: [{ name: "http", containerPort: 8080 }],
});
const db = pod("prod/db", ["10.0.0.2", "fd00::2"], {
  labels: { app: "db" },
  ports: [
    { name: "pg", containerPort: 5432 },
    { name: "sig", containerPort: 9, protocol: "SCTP" },
  ],
});
const remote = pod("dev/api", ["10.0.1.3"], {
  node: "n2",
  labels: { app: "api" },
  ports: [{ name: "pg", containerPort: 6432 }],
});
const client = pod("dev/client", ["10.0.0.9"], { labels: { app: "client" } });
const everything = [
  netpol("prod/deny", { policyTypes: ["Ingress", "Egress"] }),
  netpol("prod/web", {
    podSelector: { matchLabels: { app: "web" } },
    ingress: [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { team: "dev" } },
            podSelector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["x"] }] },
          },
          { ipBlock: { cidr: "192.168.7.7/16", except: ["192.168.1.0/24", "192.168.1.128/25"] } },
          { ipBlock: { cidr: "fd99::1/48", except: ["fd99:0:0:1::/64"] } },
        ],
        ports: [{ port: "http" }, { protocol: "UDP", port: 5000, endPort: 5100 }, { protocol: "SCTP" }],
      },
    ],
    egress: [
      {
        to: [{ namespaceSelector: {}, podSelector: {} }],
        ports: [{ port: "pg" }, { port: "sig", protocol: "SCTP" }],
      },
      { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 53, protocol: "UDP" }, { port: 53 }] },
    ],
  }),
];
const snapshot = (over: Partial<PolicySnapshot> = {}): PolicySnapshot => ({
  nodeName: "n1",
  pods: [web, db, remote, client],
  namespaces: [namespace("dev", { team: "dev" }), namespace("prod")],
  policies: everything,
  ...over,
});

describe.skipIf(!isRoot)("policy on the real nftables", () => {
  test("nft accepts the full script; listed back it equals the IR; label change = small delta", async () => {
    const ns = await createNetns("pol");
    try {
      const nft = new LinuxNft();
      await nft.apply(ns.path, renderMasqueradeAdd({ network: "net", subnets: ["10.0.0.0/24"] }));
      const ir = compilePolicy(snapshot());
      await nft.apply(ns.path, renderPolicyFull(ir));
      const read = async () => parsePolicyState(await nft.listJson(ns.path, "inet", "tartan"));
      expect(renderPolicyDelta(await read(), ir)).toEqual({ script: "", changes: 0 });

      const labelled = { ...client, metadata: { ...client.metadata, labels: { app: "x" } } };
      const ir2 = compilePolicy(snapshot({ pods: [web, db, remote, labelled] }));
      const d = renderPolicyDelta(await read(), ir2);
      expect(d.changes).toBeGreaterThan(0);
      expect(d.changes).toBeLessThanOrEqual(2);
      expect(d.script.split("\n").filter((l) => l.startsWith("flush"))).toEqual([]);
      await nft.apply(ns.path, d.script);
      expect(renderPolicyDelta(await read(), ir2).script).toBe("");

      // A local isolated pod leaves: its map elements, chains and counters go in one transaction.
      const ir3 = compilePolicy(snapshot({ pods: [web, remote, labelled] }));
      await nft.apply(ns.path, renderPolicyDelta(await read(), ir3).script);
      expect(renderPolicyDelta(await read(), ir3).script).toBe("");
      expect(await nft.list(ns.path, "inet", "tartan")).not.toContain("prod/db");

      // Every policy gone: nothing of policy left, the ipMasq chain untouched.
      await nft.apply(
        ns.path,
        renderPolicyDelta(await read(), compilePolicy(snapshot({ policies: [] }))).script,
      );
      const left = (await nft.list(ns.path, "inet", "tartan"))!;
      expect(left).toContain("chain masq-net");
      expect(left).not.toMatch(/policy-forward|ing\/|egr\/|pods4-|drop\//);
    } finally {
      await deleteNetns(ns.name);
    }
  });

  test("hostile names past validation and the longest valid names: nft accepts the script, read back it equals the IR", async () => {
    const ns = await createNetns("pol");
    try {
      const nft = new LinuxNft();
      const read = async () => parsePolicyState(await nft.listJson(ns.path, "inet", "tartan"));
      const hostile = hostilePolicyIr();
      await nft.apply(ns.path, renderPolicyFull(hostile));
      expect(renderPolicyDelta(await read(), hostile)).toEqual({ script: "", changes: 0 });
      // 63-character namespace, 253-character name: the chain name is shortened with a hash.
      const long = pod(`${"n".repeat(63)}/${"p".repeat(253)}`, ["10.0.0.5"]);
      const deny = netpol(`${"n".repeat(63)}/deny`, { policyTypes: ["Ingress", "Egress"] });
      const ir = compilePolicy(snapshot({ pods: [long], policies: [deny] }));
      await nft.apply(ns.path, renderPolicyDelta(await read(), ir).script);
      expect(renderPolicyDelta(await read(), ir)).toEqual({ script: "", changes: 0 });
      expect(await nft.list(ns.path, "inet", "tartan")).toContain(
        `ing/${"n".repeat(63)}/${"p".repeat(100)}_`,
      );
    } finally {
      await deleteNetns(ns.name);
    }
  });

  test("the manager: one transaction, nothing on a repeat, drift removed from outside is restored by resync", async () => {
    const ns = await createNetns("pol");
    const ds = new MemoryDatastore();
    for (const o of [web, db, remote, client, ...everything, namespace("dev", { team: "dev" })])
      await ds.create(o);
    const nft = new NetnsNft(ns);
    const m = new PolicyManager({
      ds,
      nodeName: "n1",
      nft,
      sctp: true,
      log: () => {},
      mirrorOptions: { onError: () => {} },
    });
    try {
      await Promise.all(m.mirrors.map((x) => x.start()));
      m.start();
      await m.idle();
      expect(m.metrics.nftCalls).toBe(1);
      m.resync(); // reads the kernel back: equal, so no write
      await m.idle();
      expect(m.metrics.nftCalls).toBe(1);

      // Someone removes web's ingress chain (its map entries first, or the kernel refuses) and a set element.
      await ns.exec([
        "nft",
        "delete element inet tartan ingress-pods4 { 10.0.0.1 }; delete element inet tartan ingress-pods6 { fd00::1 }; " +
          "flush chain inet tartan ing/prod/web; delete chain inet tartan ing/prod/web",
      ]);
      const ruleset = async () => (await ns.exec(["nft", "list", "table", "inet", "tartan"])).stdout;
      expect(await ruleset()).not.toContain("chain ing/prod/web");
      m.resync();
      await m.idle();
      expect(m.metrics.nftCalls).toBe(2);
      expect(m.metrics.driftRepairs).toBe(1);
      const text = await ruleset();
      expect(text).toContain("chain ing/prod/web {");
      expect(text).toMatch(/10\.0\.0\.1 : jump ing\/prod\/web/);
      expect(m.metrics.lastDeltaChanges).toBe(3); // the chain (with its rules) and its 2 map elements
      m.resync();
      await m.idle();
      expect(m.metrics.nftCalls).toBe(2);
    } finally {
      m.stop();
      await deleteNetns(ns.name);
    }
  });
});
