// Delta rendering (only what changed, in an order nft accepts in one transaction) and the policy
// manager over FakeNft: nothing before start, coalesced applies, a second apply of the same
// state runs no nft at all, label changes take effect without restarts.
import { afterEach, describe, expect, test } from "bun:test";
import { PolicyManager } from "../../src/agent/policy-manager.ts";
import { compilePolicy } from "../../src/calc/compile-policy.ts";
import { EMPTY_POLICY_IR, type PolicySnapshot } from "../../src/calc/policy-ir.ts";
import { FakeNft } from "../../src/dataplane/fake/fake-nft.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import type { Resource } from "../../src/model/resource.ts";
import { parsePolicyState } from "../../src/render/policy-kernel-state.ts";
import {
  EMPTY_POLICY_STATE,
  policyStateOf,
  renderPolicyDelta,
  renderPolicyFull,
} from "../../src/render/policy-nft.ts";
import { netpol, pod } from "../harness/k8s-objects.ts";

const web = pod("prod/web", ["10.0.0.1"], { labels: { app: "web" } });
const db = pod("prod/db", ["10.0.0.2"], { labels: { app: "db" } });
const client = pod("dev/client", ["10.0.0.9"], { labels: { app: "client" } });
const allowDb = netpol("prod/allow-db", {
  podSelector: { matchLabels: { app: "web" } },
  ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: "db-client" } } }] }],
});
const snap = (over: Partial<PolicySnapshot> = {}): PolicySnapshot => ({
  nodeName: "n1",
  pods: [web, db, client],
  namespaces: [],
  policies: [allowDb],
  ...over,
});
const lines = (script: string) => script.split("\n").filter((l) => l !== "");

describe("renderPolicyDelta", () => {
  test("from nothing it is the full script; the same IR again is an empty delta", () => {
    const ir = compilePolicy(snap());
    expect(renderPolicyDelta(EMPTY_POLICY_STATE, ir).script).toBe(renderPolicyFull(ir));
    expect(renderPolicyDelta(policyStateOf(ir), ir)).toEqual({ script: "", changes: 0 });
  });

  test("objects are declared before they are referred to, and maps point at declared chains", () => {
    const l = lines(renderPolicyFull(compilePolicy(snap())));
    expect(l[0]).toBe("add table inet tartan");
    const firstRule = l.findIndex((x) => x.startsWith("add rule"));
    const lastDecl = l.findLastIndex((x) => /^add (set|map|chain|counter) /.test(x));
    expect(lastDecl).toBeLessThan(firstRule);
    // A new map carries its elements (jumps) in its declaration, after the chains they name.
    const map = l.findIndex((x) => x.startsWith("add map inet tartan ingress-pods4 "));
    expect(l[map]).toMatch(/ elements = \{ 10\.0\.0\.\d+ : jump ing\/prod\/web\b.* \} \}$/);
    expect(map).toBeGreaterThan(l.indexOf("add chain inet tartan ing/prod/web"));
    // New sets too: no `add element` line at all, which would make nft read every set's elements.
    expect(l.filter((x) => x.startsWith("add element"))).toEqual([]);
    expect(l.at(-1)).toMatch(
      /^add rule inet tartan policy-forward ip6 daddr vmap @ingress-pods6 comment "fp=[0-9a-f]{12} tartan policy"$/,
    );
  });

  test("a label change that adds a peer is one element in one set: no chain is rewritten", () => {
    const before = compilePolicy(snap());
    const labelled = { ...client, metadata: { ...client.metadata, labels: { role: "db-client" } } };
    const after = compilePolicy(snap({ pods: [web, db, labelled] }));
    const d = renderPolicyDelta(policyStateOf(before), after);
    expect(lines(d.script)).toEqual([
      "add table inet tartan",
      expect.stringMatching(/^add element inet tartan pods4-\w+ \{ 10\.0\.0\.9 \}$/),
    ]);
    expect(d.changes).toBe(1);
    // And back: one delete.
    expect(lines(renderPolicyDelta(policyStateOf(after), before).script)).toEqual([
      "add table inet tartan",
      expect.stringMatching(/^delete element inet tartan pods4-\w+ \{ 10\.0\.0\.9 \}$/),
    ]);
  });

  test("a new policy on an isolated pod rewrites that pod's chain only (flush + rules)", () => {
    const before = compilePolicy(snap());
    const after = compilePolicy(
      snap({
        policies: [
          allowDb,
          netpol("prod/http", {
            podSelector: { matchLabels: { app: "web" } },
            ingress: [{ ports: [{ port: 80 }] }],
          }),
        ],
      }),
    );
    const l = lines(renderPolicyDelta(policyStateOf(before), after).script);
    expect(l.filter((x) => x.startsWith("flush chain"))).toEqual(["flush chain inet tartan ing/prod/web"]);
    expect(l).toContain("add rule inet tartan ing/prod/web meta l4proto tcp th dport 80 accept");
    expect(l.some((x) => x.includes("policy-forward"))).toBe(false);
  });

  test("a new policy's new peer set carries its elements in its declaration, before the rule using it", () => {
    const before = compilePolicy(snap());
    const after = compilePolicy(
      snap({
        policies: [
          allowDb,
          netpol("prod/from-client", {
            podSelector: { matchLabels: { app: "web" } },
            ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "client" } } }] }],
          }),
        ],
      }),
    );
    const d = renderPolicyDelta(policyStateOf(before), after);
    const l = lines(d.script);
    // No `add element` (nft would first read every set's elements from the kernel: decision 0027).
    expect(l.filter((x) => x.includes(" element "))).toEqual([]);
    const decl = l.findIndex((x) =>
      /^add set inet tartan pods4-\w+ \{ type ipv4_addr; elements = \{ 10\.0\.0\.9 \} \}$/.test(x),
    );
    expect(decl).toBeGreaterThan(0);
    const name = /pods4-\w+/.exec(l[decl]!)![0];
    expect(l.findIndex((x) => x.startsWith("add rule") && x.includes(`@${name} `))).toBeGreaterThan(decl);
    // The element still counts as a change, and the applied state has it.
    expect(d.changes).toBeGreaterThanOrEqual(2);
    expect(policyStateOf(after).sets.get(name)!.elements).toEqual(["10.0.0.9"]);
    expect(d.elements).toBeUndefined();
  });

  test("a pod leaving: its map element, chain and counter go, in an order nft accepts", () => {
    const deny = netpol("prod/deny", {});
    const before = compilePolicy(snap({ policies: [deny] }));
    const after = compilePolicy(snap({ pods: [web, client], policies: [deny] }));
    const l = lines(renderPolicyDelta(policyStateOf(before), after).script);
    const at = (s: string) => l.indexOf(s);
    expect(at("delete element inet tartan ingress-pods4 { 10.0.0.2 }")).toBeGreaterThan(0);
    expect(at("flush chain inet tartan ing/prod/db")).toBeGreaterThan(
      at("delete element inet tartan ingress-pods4 { 10.0.0.2 }"),
    );
    expect(at("delete chain inet tartan ing/prod/db")).toBeGreaterThan(
      at("flush chain inet tartan ing/prod/db"),
    );
    expect(at("delete counter inet tartan drop/ing/prod/db")).toBeGreaterThan(
      at("delete chain inet tartan ing/prod/db"),
    );
  });

  test("the last policy gone: everything of policy is removed, rules before the sets they use", () => {
    const before = compilePolicy(snap());
    const l = lines(renderPolicyDelta(policyStateOf(before), EMPTY_POLICY_IR).script);
    const lastFlush = l.findLastIndex((x) => x.startsWith("flush chain"));
    const firstSetDelete = l.findIndex((x) => /^delete (set|map) /.test(x));
    expect(firstSetDelete).toBeGreaterThan(lastFlush);
    expect(l.filter((x) => x.startsWith("delete chain")).sort()).toEqual([
      "delete chain inet tartan ing/prod/web",
      "delete chain inet tartan policy-forward",
    ]);
    expect(l.some((x) => x.includes("masq-"))).toBe(false);
  });

  test("a set re-declared from outside with another type is rebuilt (chains emptied first)", () => {
    const ir = compilePolicy(snap());
    const state = policyStateOf(ir);
    const name = [...state.sets.keys()].find((n) => n.startsWith("pods4-"))!;
    state.sets.set(name, { kind: "set", decl: "type ipv4_addr; flags interval;", elements: [] });
    const l = lines(renderPolicyDelta(state, ir).script);
    expect(l.indexOf(`delete set inet tartan ${name}`)).toBeGreaterThan(
      l.indexOf("flush chain inet tartan ing/prod/web"),
    );
    expect(l.indexOf(`add set inet tartan ${name} { type ipv4_addr; }`)).toBeGreaterThan(
      l.indexOf(`delete set inet tartan ${name}`),
    );
    expect(l).toContain("flush chain inet tartan policy-forward");
  });
});

describe("parsePolicyState", () => {
  test("reads policy objects in the IR's canonical text and leaves other objects of the table out", () => {
    const json = {
      nftables: [
        { metainfo: {} },
        { table: { family: "inet", name: "tartan" } },
        { chain: { family: "inet", table: "tartan", name: "masq-net" } },
        { rule: { family: "inet", table: "tartan", chain: "masq-net", expr: [] } },
        { chain: { family: "inet", table: "tartan", name: "ing/prod/web" } },
        { rule: { family: "inet", table: "tartan", chain: "ing/prod/web", expr: [] } },
        {
          rule: {
            family: "inet",
            table: "tartan",
            chain: "ing/prod/web",
            expr: [],
            comment: "fp=abc123 by x",
          },
        },
        {
          set: {
            family: "inet",
            table: "tartan",
            name: "blk6-1f",
            type: "ipv6_addr",
            flags: ["interval"],
            elem: ["fd00::1", { prefix: { addr: "fd00:0:0::", len: 64 } }],
          },
        },
        {
          set: {
            family: "inet",
            table: "tartan",
            name: "nport4-2a",
            type: ["ipv4_addr", "inet_proto", "inet_service"],
            elem: [{ concat: ["10.0.0.1", "tcp", 80] }],
          },
        },
        {
          map: {
            family: "inet",
            table: "tartan",
            name: "ingress-pods4",
            type: "ipv4_addr",
            map: "verdict",
            elem: [["10.0.0.1", { jump: { target: "ing/prod/web" } }]],
          },
        },
        { counter: { family: "inet", table: "tartan", name: "drop/ing/prod/web", packets: 3, bytes: 180 } },
        { chain: { family: "inet", table: "other", name: "ing/x" } },
      ],
    };
    const s = parsePolicyState(json);
    expect([...s.chains]).toEqual([["ing/prod/web", { fingerprint: "abc123", ruleCount: 2 }]]);
    expect(s.sets.get("blk6-1f")).toEqual({
      kind: "set",
      decl: "type ipv6_addr; flags interval;",
      elements: ["fd00::/64", "fd00::1/128"],
    });
    expect(s.sets.get("nport4-2a")!.elements).toEqual(["10.0.0.1 . tcp . 80"]);
    expect(s.sets.get("ingress-pods4")).toEqual({
      kind: "map",
      decl: "type ipv4_addr : verdict;",
      elements: ["10.0.0.1 : jump ing/prod/web"],
    });
    expect(s.counters).toEqual(new Set(["drop/ing/prod/web"]));
  });
});

describe("PolicyManager over FakeNft", () => {
  const managers: PolicyManager[] = [];
  afterEach(() => {
    for (const m of managers.splice(0)) m.stop();
  });

  async function setup(
    objects: Resource[],
    opts: { nft?: FakeNft; setTimeout?: (fn: () => void, ms: number) => unknown } = {},
  ) {
    const ds = new MemoryDatastore();
    for (const o of objects) await ds.create(o);
    const nft = opts.nft ?? new FakeNft();
    const logs: string[] = [];
    const m = new PolicyManager({
      ds,
      nodeName: "n1",
      nft,
      sctp: true,
      log: (_l, msg) => logs.push(msg),
      mirrorOptions: { onError: () => {} },
      ...(opts.setTimeout ? { setTimeout: opts.setTimeout } : {}),
    });
    managers.push(m);
    await Promise.all(m.mirrors.map((x) => x.start()));
    return { ds, nft, m, logs };
  }

  test("after an apply and a quiet spell, the nft driver's freed memory is handed back too", async () => {
    const spy = new FakeNft() as FakeNft & { releaseMemory: () => void };
    let released = 0;
    spy.releaseMemory = () => void released++;
    const timers: { fn: () => void; ms: number }[] = [];
    const { nft, m } = await setup([web, db, client, allowDb], {
      nft: spy,
      setTimeout: (fn, ms) => timers.push({ fn, ms }),
    });
    m.start();
    await m.idle();
    expect(nft.scripts).toHaveLength(1);
    const idle = timers.filter((t) => t.ms >= 1000);
    expect(idle.length).toBeGreaterThan(0);
    expect(released).toBe(0); // never on the apply's own path
    for (const t of idle) t.fn();
    expect(released).toBe(1);
  });

  test("nothing is written before start(); then one transaction; the same state again writes nothing", async () => {
    const { nft, m } = await setup([web, db, client, allowDb]);
    m.onUpdate();
    await m.idle();
    expect(nft.scripts).toHaveLength(0);
    m.start();
    await m.idle();
    expect(nft.scripts).toHaveLength(1);
    expect(nft.scripts[0]!.script).toBe(renderPolicyFull(compilePolicy(snap())));
    m.onUpdate();
    m.onUpdate();
    await m.idle();
    expect(nft.scripts).toHaveLength(1); // second delta empty: no nft call at all
    expect(m.metrics.nftCalls).toBe(1);
    expect(m.metrics.applies).toBe(2);
    expect(await m.waitApplied(10)).toBe(true);
  });

  test("a pod's label change in the datastore takes effect with a one-element delta", async () => {
    const { ds, nft, m } = await setup([web, db, client, allowDb]);
    m.start();
    await m.idle();
    const cur = (await ds.get("Pod", "client", "dev"))!;
    await ds.update({ ...cur, metadata: { ...cur.metadata, labels: { role: "db-client" } } });
    for (let i = 0; i < 50 && nft.elementBatches.length < 1; i++) await Bun.sleep(5);
    await m.idle();
    // Element-only: one element batch (netlink in the Linux driver), no second nft script.
    expect(nft.scripts).toHaveLength(1);
    expect(nft.elementBatches).toHaveLength(1);
    expect(nft.elementBatches[0]!.changes).toEqual([
      { verb: "add", set: expect.any(String), family: 4, elements: ["10.0.0.9"] },
    ]);
    expect(m.metrics.lastDeltaChanges).toBe(1);
    expect(m.metrics.elementBatches).toBe(1);
    expect(m.metrics.nftCalls).toBe(1);
    expect(JSON.stringify((await nft.listJson(null, "inet", "tartan")) ?? {})).toContain("10.0.0.9");
  });

  test("a failed nft transaction is retried; waiters are answered once it went in", async () => {
    const { nft, m, logs } = await setup([web, allowDb]);
    nft.failNext();
    m.start();
    const ok = m.waitApplied(3000);
    expect(await ok).toBe(true);
    expect(m.metrics.applyErrors).toBe(1);
    expect(logs).toContain("policy apply failed; retrying");
    expect(nft.scripts).toHaveLength(1);
  });

  test("a policy that cannot be compiled is reported in metrics and the log; the agent goes on", async () => {
    const bad = netpol("prod/bad", { ingress: [{ ports: [{ port: 0 }] }] });
    const { m, logs } = await setup([web, bad]);
    m.start();
    await m.idle();
    expect(m.current().problems.map((p) => p.code)).toEqual(["policy-invalid"]);
    expect(logs).toContain("policy not enforced as written");
    expect(m.metrics.render()).toContain('tartan_policy_problems{code="policy-invalid"} 1');
    expect(m.metrics.render()).toContain('tartan_policy_isolated_pods{direction="ingress"} 1');
  });
});
