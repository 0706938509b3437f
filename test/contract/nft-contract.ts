// What the policy manager (and the ipMasq chains) rely on from nftables, registered once against
// the in-memory FakeNft (test/unit, no root) and once against the real nft in a fresh tt-t-*
// namespace (test/integration), with the same expectations, so the fake cannot drift from the
// kernel: tables, base and regular chains, sets and their elements (intervals, concatenations),
// verdict maps, rules with named counters and comments, atomic transactions, and the read-back as
// `nft -j list table inet tartan` (what render/policy-kernel-state.ts parses). Only `table inet
// tartan` and a test-named `table inet tartan-contract` of the fixture's own namespace are touched.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { compilePolicy } from "../../src/calc/compile-policy.ts";
import type { NetnsRef } from "../../src/dataplane/dataplane.ts";
import type { NftTable } from "../../src/dataplane/nft-table.ts";
import { parseDropCounters, parsePolicyState } from "../../src/render/policy-kernel-state.ts";
import { policyStateOf, renderPolicyDelta, renderPolicyFull } from "../../src/render/policy-nft.ts";
import { netpol, pod } from "../harness/k8s-objects.ts";

export interface NftFixture {
  nft: NftTable;
  /** The fixture's own namespace (a fresh tt-t-* one on Linux). */
  netns: NetnsRef;
  cleanup(): Promise<void>;
}

const T = "inet tartan";

type Json = Record<string, unknown>;
const items = (json: unknown): Json[] =>
  ((json as { nftables?: Json[] } | undefined)?.nftables ?? []) as Json[];

/** Names referred to anywhere in an expression: named sets ("@x") and named counters. */
function refs(expr: unknown, out: { sets: string[]; counters: string[] } = { sets: [], counters: [] }) {
  if (typeof expr === "string" && expr.startsWith("@")) out.sets.push(expr.slice(1));
  else if (Array.isArray(expr)) for (const e of expr) refs(e, out);
  else if (expr && typeof expr === "object") {
    for (const [k, v] of Object.entries(expr)) {
      if (k === "counter" && typeof v === "string") out.counters.push(v);
      else refs(v, out);
    }
  }
  return out;
}

/** The rules of a chain from nft -j: comment and the named objects they use. */
const rulesOf = (json: unknown, chain: string) =>
  items(json)
    .map((i) => i.rule as Json | undefined)
    .filter((r): r is Json => r !== undefined && r.chain === chain)
    .map((r) => {
      const x = refs(r.expr);
      return { comment: r.comment as string | undefined, sets: x.sets.sort(), counters: x.counters };
    });

export function nftContract(
  label: string,
  factory: () => Promise<NftFixture>,
  opts: { skip?: boolean } = {},
): void {
  describe.skipIf(opts.skip ?? false)(`nftables contract: ${label}`, () => {
    let fx: NftFixture;
    let nft: NftTable;
    let ns: NetnsRef;
    const run = (...lines: string[]) => nft.apply(ns, `${lines.join("\n")}\n`);
    const json = () => nft.listJson!(ns, "inet", "tartan");
    const state = async () => parsePolicyState(await json());
    const elements = async (set: string) => (await state()).sets.get(set)?.elements;

    beforeEach(async () => {
      fx = await factory();
      ({ nft, netns: ns } = fx);
    });
    afterEach(async () => {
      await fx?.cleanup();
    });

    test("tables: add is idempotent, delete removes, deleting a missing one fails; other tables stay", async () => {
      expect(await json()).toBeUndefined();
      await run(`add table ${T}`, `add table ${T}`, "add table inet tartan-contract");
      expect(items(await json()).some((i) => (i.table as Json | undefined)?.name === "tartan")).toBe(true);
      await run(`delete table ${T}`);
      expect(await json()).toBeUndefined();
      expect(await nft.list(ns, "inet", "tartan")).toBeUndefined();
      await expect(run(`delete table ${T}`)).rejects.toThrow(/No such file or directory/);
      expect(await nft.listJson!(ns, "inet", "tartan-contract")).toBeDefined();
      await run("delete table inet tartan-contract");
    });

    test("chains: a base chain with hook, priority and policy; regular chains; a hook cannot change in place", async () => {
      await run(
        `add table ${T}`,
        `add chain ${T} policy-forward { type filter hook forward priority 0; policy accept; }`,
        `add chain ${T} ing/prod/web`,
      );
      const s = await state();
      expect(s.chains.get("policy-forward")).toEqual({
        hook: "type filter hook forward priority 0; policy accept;",
        fingerprint: undefined,
        ruleCount: 0,
      });
      expect(s.chains.get("ing/prod/web")).toEqual({ fingerprint: undefined, ruleCount: 0 });
      // Re-adding is a no-op (with the same hook, or without any).
      await run(
        `add chain ${T} policy-forward { type filter hook forward priority 0; policy accept; }`,
        `add chain ${T} policy-forward`,
        `add chain ${T} ing/prod/web`,
      );
      await expect(
        run(`add chain ${T} policy-forward { type filter hook forward priority 10; policy accept; }`),
      ).rejects.toThrow(/Operation not supported/);
      await expect(run(`delete chain ${T} egr/prod/none`)).rejects.toThrow(/No such file or directory/);
      await expect(run(`flush chain ${T} egr/prod/none`)).rejects.toThrow(/No such file or directory/);
      await run(`delete chain ${T} ing/prod/web`);
      expect((await state()).chains.has("ing/prod/web")).toBe(false);
    });

    test("sets: plain, interval and concatenated; elements in canonical text; add is idempotent, create and delete are strict, flush empties", async () => {
      await run(
        `add table ${T}`,
        `add set ${T} pods4-a { type ipv4_addr; }`,
        `add set ${T} pods6-a { type ipv6_addr; }`,
        `add set ${T} blk4-a { type ipv4_addr; flags interval; }`,
        `add set ${T} blk6-a { type ipv6_addr; flags interval; }`,
        `add set ${T} nport4-a { type ipv4_addr . inet_proto . inet_service; }`,
        `add element ${T} pods4-a { 10.0.0.2, 10.0.0.1 }`,
        `add element ${T} pods6-a { fd00:0:0::1 }`,
        `add element ${T} blk4-a { 10.1.0.0/16, 10.2.0.1/32 }`,
        `add element ${T} blk6-a { fd00::/64, fd00:1::1/128 }`,
        `add element ${T} nport4-a { 10.0.0.1 . tcp . 8080, 10.0.0.2 . udp . 53 }`,
      );
      const s = await state();
      expect(s.sets.get("pods4-a")).toEqual({
        kind: "set",
        decl: "type ipv4_addr;",
        elements: ["10.0.0.1", "10.0.0.2"],
      });
      expect(s.sets.get("pods6-a")!.elements).toEqual(["fd00::1"]);
      expect(s.sets.get("blk4-a")).toEqual({
        kind: "set",
        decl: "type ipv4_addr; flags interval;",
        elements: ["10.1.0.0/16", "10.2.0.1/32"],
      });
      expect(s.sets.get("blk6-a")!.elements).toEqual(["fd00:1::1/128", "fd00::/64"]);
      expect(s.sets.get("nport4-a")).toEqual({
        kind: "set",
        decl: "type ipv4_addr . inet_proto . inet_service;",
        elements: ["10.0.0.1 . tcp . 8080", "10.0.0.2 . udp . 53"],
      });

      await run(`add element ${T} pods4-a { 10.0.0.1 }`, `add set ${T} pods4-a { type ipv4_addr; }`);
      expect(await elements("pods4-a")).toEqual(["10.0.0.1", "10.0.0.2"]);
      await expect(run(`create element ${T} pods4-a { 10.0.0.1 }`)).rejects.toThrow(/File exists/);
      await expect(run(`delete element ${T} pods4-a { 10.0.0.9 }`)).rejects.toThrow(
        /No such file or directory/,
      );
      await expect(run(`add element ${T} pods4-none { 10.0.0.9 }`)).rejects.toThrow(
        /No such file or directory/,
      );
      await expect(run(`add element ${T} pods4-a { fd00::9 }`)).rejects.toThrow(/Address family/);
      await expect(run(`add set ${T} pods4-a { type ipv6_addr; }`)).rejects.toThrow(/File exists/);
      // An interval set refuses overlaps: with its elements and within one statement.
      await expect(run(`add element ${T} blk4-a { 10.1.2.0/24 }`)).rejects.toThrow(/overlap|conflicting/);
      await expect(run(`add element ${T} blk4-a { 10.9.0.0/16, 10.9.1.0/24 }`)).rejects.toThrow(
        /overlap|conflicting/,
      );

      await run(
        `delete element ${T} pods4-a { 10.0.0.1 }`,
        `delete element ${T} nport4-a { 10.0.0.2 . udp . 53 }`,
      );
      expect(await elements("pods4-a")).toEqual(["10.0.0.2"]);
      expect(await elements("nport4-a")).toEqual(["10.0.0.1 . tcp . 8080"]);
      // A flush empties a set and keeps it; a missing one cannot be flushed.
      await run(`flush set ${T} blk4-a`, `add element ${T} blk4-a { 10.3.0.0/16 }`);
      expect(await elements("blk4-a")).toEqual(["10.3.0.0/16"]);
      await expect(run(`flush set ${T} blk4-none`)).rejects.toThrow(/No such file or directory/);
      await run(`delete set ${T} pods6-a`);
      expect((await state()).sets.has("pods6-a")).toBe(false);
      await expect(run(`delete set ${T} pods6-a`)).rejects.toThrow(/No such file or directory/);
    });

    test("a set or map declared with its elements holds them; a refused element fails the declaration", async () => {
      await run(
        `add table ${T}`,
        `add set ${T} pods4-b { type ipv4_addr; elements = { 10.0.0.2, 10.0.0.1 } }`,
        `add set ${T} blk4-b { type ipv4_addr; flags interval; elements = { 10.1.0.0/16, 10.2.0.1/32 } }`,
        `add set ${T} nport4-b { type ipv4_addr . inet_proto . inet_service; elements = { 10.0.0.1 . tcp . 8080 } }`,
        `add chain ${T} ing/prod/i`,
        `add map ${T} ingress-pods4 { type ipv4_addr : verdict; elements = { 10.0.0.1 : jump ing/prod/i } }`,
      );
      const s = await state();
      expect(s.sets.get("pods4-b")).toEqual({
        kind: "set",
        decl: "type ipv4_addr;",
        elements: ["10.0.0.1", "10.0.0.2"],
      });
      expect(s.sets.get("blk4-b")!.elements).toEqual(["10.1.0.0/16", "10.2.0.1/32"]);
      expect(s.sets.get("nport4-b")!.elements).toEqual(["10.0.0.1 . tcp . 8080"]);
      expect(s.sets.get("ingress-pods4")!.elements).toEqual(["10.0.0.1 : jump ing/prod/i"]);
      // Declared again with more elements: they are added, the others stay.
      await run(`add set ${T} pods4-b { type ipv4_addr; elements = { 10.0.0.3 } }`);
      expect(await elements("pods4-b")).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
      // A jump to a missing chain, or an overlap, refuses the whole transaction.
      await expect(
        run(
          `add map ${T} egress-pods4 { type ipv4_addr : verdict; elements = { 10.0.0.1 : jump ing/prod/none } }`,
        ),
      ).rejects.toThrow(/No such file or directory/);
      await expect(
        run(
          `add set ${T} blk4-c { type ipv4_addr; flags interval; elements = { 10.9.0.0/16, 10.9.1.0/24 } }`,
        ),
      ).rejects.toThrow(/overlap|conflicting/);
      const after = await state();
      expect(after.sets.has("egress-pods4")).toBe(false);
      expect(after.sets.has("blk4-c")).toBe(false);
    });

    test("verdict maps: jump elements need their chain, and hold it until they are deleted", async () => {
      await run(
        `add table ${T}`,
        `add map ${T} ingress-pods4 { type ipv4_addr : verdict; }`,
        `add chain ${T} ing/prod/web`,
        `add rule ${T} ing/prod/web drop`,
        `add element ${T} ingress-pods4 { 10.0.0.1 : jump ing/prod/web, 10.0.0.3 : jump ing/prod/web }`,
      );
      expect((await state()).sets.get("ingress-pods4")).toEqual({
        kind: "map",
        decl: "type ipv4_addr : verdict;",
        elements: ["10.0.0.1 : jump ing/prod/web", "10.0.0.3 : jump ing/prod/web"],
      });
      await expect(run(`add element ${T} ingress-pods4 { 10.0.0.5 : jump ing/prod/none }`)).rejects.toThrow(
        /No such file or directory/,
      );
      await expect(run(`flush chain ${T} ing/prod/web`, `delete chain ${T} ing/prod/web`)).rejects.toThrow(
        /Device or resource busy/,
      );
      // Map elements are deleted by key; then the chain can go (with its rules).
      await run(`delete element ${T} ingress-pods4 { 10.0.0.1, 10.0.0.3 }`, `delete chain ${T} ing/prod/web`);
      const s = await state();
      expect(s.sets.get("ingress-pods4")!.elements).toEqual([]);
      expect(s.chains.has("ing/prod/web")).toBe(false);
    });

    test("rules: named sets and counters must exist and stay while used; comments and counters read back", async () => {
      await run(
        `add table ${T}`,
        `add set ${T} pods4-a { type ipv4_addr; }`,
        `add counter ${T} drop/ing/prod/web`,
        `add chain ${T} policy-forward { type filter hook forward priority 0; policy accept; }`,
        `add chain ${T} ing/prod/web`,
        `add map ${T} ingress-pods4 { type ipv4_addr : verdict; }`,
        `add rule ${T} policy-forward ct state established,related accept`,
        `add rule ${T} policy-forward ip daddr vmap @ingress-pods4 comment "fp=0123456789ab tartan policy"`,
        `add rule ${T} ing/prod/web ip saddr @pods4-a meta l4proto . th dport { tcp . 80, udp . 53 } accept`,
        `add rule ${T} ing/prod/web counter name "drop/ing/prod/web" limit rate 10/second burst 20 packets log prefix "tartan-drop ing prod/web " group 7474`,
        `add rule ${T} ing/prod/web drop comment "fp=ba9876543210 by a"`,
      );
      const j = await json();
      expect(rulesOf(j, "ing/prod/web")).toEqual([
        { comment: undefined, sets: ["pods4-a"], counters: [] },
        { comment: undefined, sets: [], counters: ["drop/ing/prod/web"] },
        { comment: "fp=ba9876543210 by a", sets: [], counters: [] },
      ]);
      expect(rulesOf(j, "policy-forward").map((r) => [r.comment, r.sets])).toEqual([
        [undefined, []],
        ["fp=0123456789ab tartan policy", ["ingress-pods4"]],
      ]);
      const s = parsePolicyState(j);
      expect(s.chains.get("ing/prod/web")).toEqual({ fingerprint: "ba9876543210", ruleCount: 3 });
      expect(s.counters).toEqual(new Set(["drop/ing/prod/web"]));
      expect(parseDropCounters(j)).toEqual([{ name: "drop/ing/prod/web", packets: 0, bytes: 0 }]);

      await expect(run(`add rule ${T} ing/prod/web ip saddr @pods4-none accept`)).rejects.toThrow(
        /No such file or directory/,
      );
      await expect(run(`add rule ${T} ing/prod/web counter name "drop/none" drop`)).rejects.toThrow(
        /No such file or directory/,
      );
      await expect(run(`add rule ${T} egr/prod/none accept`)).rejects.toThrow(/No such file or directory/);
      await expect(run(`delete set ${T} pods4-a`)).rejects.toThrow(/Device or resource busy/);
      await expect(run(`delete counter ${T} drop/ing/prod/web`)).rejects.toThrow(/Device or resource busy/);
      await expect(run(`delete map ${T} ingress-pods4`)).rejects.toThrow(/Device or resource busy/);
      // Emptied, the chain releases what its rules used.
      await run(
        `flush chain ${T} ing/prod/web`,
        `flush chain ${T} policy-forward`,
        `delete set ${T} pods4-a`,
        `delete counter ${T} drop/ing/prod/web`,
        `delete map ${T} ingress-pods4`,
      );
      const after = await state();
      expect([after.sets.size, after.counters.size, after.chains.get("ing/prod/web")!.ruleCount]).toEqual([
        0, 0, 0,
      ]);
    });

    test("a transaction whose last line fails changes nothing", async () => {
      await run(
        `add table ${T}`,
        `add set ${T} pods4-a { type ipv4_addr; }`,
        `add element ${T} pods4-a { 10.0.0.1 }`,
      );
      const before = await json();
      await expect(
        run(
          `add element ${T} pods4-a { 10.0.0.2 }`,
          `delete element ${T} pods4-a { 10.0.0.1 }`,
          `add chain ${T} ing/prod/web`,
          `add counter ${T} drop/ing/prod/web`,
          `delete set ${T} pods4-none`,
        ),
      ).rejects.toThrow(/No such file or directory/);
      expect(parsePolicyState(await json())).toEqual(parsePolicyState(before));
      expect(await elements("pods4-a")).toEqual(["10.0.0.1"]);
    });

    test("element batches (applyElements): in order, add idempotent, one transaction, refusals name the change", async () => {
      if (!nft.applyElements) throw new Error("this NftTable has no applyElements");
      await run(
        `add table ${T}`,
        `add set ${T} pods4-a { type ipv4_addr; }`,
        `add set ${T} pods6-a { type ipv6_addr; }`,
        `add element ${T} pods4-a { 10.0.0.1 }`,
      );
      await nft.applyElements(ns, "tartan", [
        { verb: "delete", set: "pods4-a", family: 4, elements: ["10.0.0.1"] },
        { verb: "add", set: "pods4-a", family: 4, elements: ["10.0.0.3", "10.0.0.2"] },
        { verb: "add", set: "pods6-a", family: 6, elements: ["fd00::1"] },
      ]);
      expect(await elements("pods4-a")).toEqual(["10.0.0.2", "10.0.0.3"]);
      expect(await elements("pods6-a")).toEqual(["fd00::1"]);
      // Adding what is there is no error; an empty change is nothing.
      await nft.applyElements(ns, "tartan", [
        { verb: "add", set: "pods4-a", family: 4, elements: ["10.0.0.2"] },
        { verb: "delete", set: "pods6-a", family: 6, elements: [] },
      ]);
      expect(await elements("pods4-a")).toEqual(["10.0.0.2", "10.0.0.3"]);
      const before = await json();
      const refusal = (cs: Parameters<NonNullable<NftTable["applyElements"]>>[2]) =>
        nft.applyElements!(ns, "tartan", cs).then(
          () => "",
          (e: Error) => e.message,
        );
      const missing = await refusal([
        { verb: "add", set: "pods4-a", family: 4, elements: ["10.0.0.4"] },
        { verb: "delete", set: "pods4-a", family: 4, elements: ["10.0.0.9"] },
      ]);
      for (const part of [
        "nothing was applied",
        "delete element inet tartan pods4-a { 10.0.0.9 }",
        "No such file",
      ])
        expect(missing).toContain(part);
      const noSet = await refusal([{ verb: "add", set: "pods4-none", family: 4, elements: ["10.0.0.4"] }]);
      for (const part of ["add element inet tartan pods4-none { 10.0.0.4 }", "No such file"])
        expect(noSet).toContain(part);
      expect(parsePolicyState(await json())).toEqual(parsePolicyState(before));
    });

    test("the policy renderer's script reads back as the IR's state; a second apply is empty", async () => {
      const ir = compilePolicy({
        nodeName: "n1",
        pods: [
          pod("prod/web", ["10.0.0.1", "fd00::1"], {
            labels: { app: "web" },
            ports: [{ name: "http", containerPort: 80 }],
          }),
          pod("prod/db", ["10.0.0.2"], { labels: { app: "db" } }),
          pod("dev/c", ["10.0.1.9"], { node: "n2", labels: { app: "c" } }),
        ],
        namespaces: [],
        policies: [
          netpol("prod/web", {
            podSelector: { matchLabels: { app: "web" } },
            ingress: [
              {
                from: [{ podSelector: { matchLabels: { app: "db" } } }],
                ports: [{ port: "http" }, { port: 443 }],
              },
              { from: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.0.1.0/24"] } }] },
            ],
          }),
          netpol("prod/db", {
            podSelector: { matchLabels: { app: "db" } },
            policyTypes: ["Egress"],
            egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: "http" }] }],
          }),
        ],
      });
      await run(renderPolicyFull(ir).trimEnd());
      const read = await state();
      expect(read).toEqual(policyStateOf(ir));
      expect(renderPolicyDelta(read, ir).script).toBe("");
      // And from there, to nothing: the delta removes it all in one transaction.
      await run(
        renderPolicyDelta(read, {
          ...ir,
          sets: new Map(),
          chains: new Map(),
          counters: new Set(),
        }).script.trimEnd(),
      );
      const empty = await state();
      expect([empty.sets.size, empty.chains.size, empty.counters.size]).toEqual([0, 0, 0]);
    });
  });
}
