// The NetworkPolicy compiler against NETWORKPOLICY.md §2–3, rule by rule: which local pods are
// isolated per direction, which rules their chains hold, which addresses the shared sets carry.
import { describe, expect, test } from "bun:test";
import { compilePolicy } from "../../src/calc/compile-policy.ts";
import { IncrementalPolicy } from "../../src/calc/policy-incremental.ts";
import type { PolicyIR, PolicySnapshot } from "../../src/calc/policy-ir.ts";
import type { NetworkPolicyResource, PodResource } from "../../src/model/k8s-resources.ts";
import { renderRule } from "../../src/render/policy-rule-nft.ts";
import { renderSetDecl, setElementTexts } from "../../src/render/policy-set-nft.ts";
import { namespace, netpol, pod } from "../harness/k8s-objects.ts";

/**
 * The full compile, checked against the incremental one fed the same objects one by one (in
 * reverse, then with every pod removed and re-added): both must give the same IR.
 */
const compile = (
  pods: PodResource[],
  policies: NetworkPolicyResource[],
  more: Partial<PolicySnapshot> = {},
) => {
  const snap: PolicySnapshot = { nodeName: "n1", pods, namespaces: [], policies, ...more };
  const ir = compilePolicy(snap);
  const inc = new IncrementalPolicy(snap.nodeName, snap.sctp ?? true);
  const k = (o: { metadata: { namespace?: string; name: string } }) =>
    `${o.metadata.namespace}/${o.metadata.name}`;
  for (const p of [...snap.policies].reverse()) inc.setPolicy(k(p), p);
  inc.compile();
  for (const n of snap.namespaces) inc.setNamespace(n.metadata.name, n);
  for (const p of [...snap.pods].reverse()) inc.setPod(k(p), p);
  const view = (x: PolicyIR) =>
    JSON.stringify([[...x.sets], [...x.chains], [...x.counters], x.pods, x.problems, x.policies]);
  expect(view(inc.compile())).toBe(view(ir));
  for (const p of snap.pods) inc.setPod(k(p), undefined);
  inc.compile();
  for (const p of snap.pods) inc.setPod(k(p), p);
  expect(view(inc.compile())).toBe(view(ir));
  return ir;
};

// The IR is data; these tests read its rules and sets as the renderer writes them (compact and
// exact); test/unit/policy-rule-lookup.test.ts reads the data itself.

/** The rules of a chain as nft text. */
function chainRules(ir: PolicyIR, chain: string): string[] {
  const c = ir.chains.get(chain);
  if (!c) throw new Error(`no chain ${chain}; have ${[...ir.chains.keys()].join(", ")}`);
  return c.rules.map(renderRule);
}

/** The allow rules of a pod's chain (without the counted drop at the end). */
function allows(ir: PolicyIR, chain: string): string[] {
  return chainRules(ir, chain).slice(0, -2);
}

/** The elements of the set a rule refers to with @name (the n-th reference). */
function setIn(ir: PolicyIR, rule: string, n = 0): string[] {
  const name = [...rule.matchAll(/@([\w.-]+)/g)][n]?.[1];
  const s = name ? ir.sets.get(name) : undefined;
  if (!s) throw new Error(`no set referenced in ${rule}`);
  return setElementTexts(s);
}

const web = pod("prod/web", ["10.0.0.1", "fd00::1"], { labels: { app: "web" } });
const db = pod("prod/db", ["10.0.0.2"], { labels: { app: "db" } });
const remote = pod("prod/api", ["10.0.1.3"], { node: "n2", labels: { app: "api" } });
const client = pod("dev/client", ["10.0.0.9"], { labels: { app: "client" } });

describe("isolation and policyTypes (§1 rules 2–3, §2 policyTypes)", () => {
  test("no policy: nothing at all in the kernel, not even the base chain", () => {
    const ir = compile([web, db], []);
    expect(ir.chains.size).toBe(0);
    expect(ir.sets.size).toBe(0);
    expect(ir.pods).toEqual([]);
  });

  test("empty policyTypes: Ingress, plus Egress only when egress rules exist", () => {
    const a = compile([web], [netpol("prod/a", { ingress: [] })]);
    expect([...a.chains.keys()].sort()).toEqual(["ing/prod/web", "policy-forward"]);
    const b = compile([web], [netpol("prod/b", { egress: [{}] })]);
    expect([...b.chains.keys()].sort()).toEqual(["egr/prod/web", "ing/prod/web", "policy-forward"]);
  });

  test("explicit policyTypes is authoritative: rules of an unlisted direction are ignored", () => {
    const ir = compile([web], [netpol("prod/e", { policyTypes: ["Egress"], ingress: [{}] })]);
    expect([...ir.chains.keys()].sort()).toEqual(["egr/prod/web", "policy-forward"]);
    expect(allows(ir, "egr/prod/web")).toEqual([]); // egress deny-all
  });

  test("deny all: the chain counts, logs (rate-limited) and drops", () => {
    const ir = compile([web], [netpol("prod/deny", { policyTypes: ["Ingress", "Egress"] })]);
    const c = ir.chains.get("ing/prod/web")!;
    expect(chainRules(ir, "ing/prod/web")).toEqual([
      'counter name "drop/ing/prod/web" limit rate 10/second burst 20 packets log prefix "tartan-drop ing prod/web " group 7474',
      "drop",
    ]);
    expect(c.note).toBe("by deny");
    expect(ir.counters).toEqual(new Set(["drop/ing/prod/web", "drop/egr/prod/web"]));
    expect(setElementTexts(ir.sets.get("ingress-pods4")!)).toEqual(["10.0.0.1 : jump ing/prod/web"]);
    expect(setElementTexts(ir.sets.get("ingress-pods6")!)).toEqual(["fd00::1 : jump ing/prod/web"]);
    expect(setElementTexts(ir.sets.get("egress-pods4")!)).toEqual(["10.0.0.1 : jump egr/prod/web"]);
  });

  test("ingress: [{}] allows everything; egress allows return to the ingress check", () => {
    const ir = compile(
      [web],
      [netpol("prod/all", { policyTypes: ["Ingress", "Egress"], ingress: [{}], egress: [{}] })],
    );
    expect(allows(ir, "ing/prod/web")).toEqual(["accept"]);
    expect(allows(ir, "egr/prod/web")).toEqual(["return"]);
  });

  test("podSelector {} selects every pod of the policy's namespace, none elsewhere", () => {
    const ir = compile([web, db, client], [netpol("prod/deny", {})]);
    expect(ir.pods.map((p) => `${p.namespace}/${p.name}`)).toEqual(["prod/db", "prod/web"]);
  });

  test("only this node's pods get chains; pods elsewhere are only peers", () => {
    const ir = compile([web, remote], [netpol("prod/deny", {})]);
    expect(ir.pods.map((p) => p.name)).toEqual(["web"]);
    expect(ir.chains.has("ing/prod/api")).toBe(false);
  });

  test("policies are additive: the union of their rules, both named", () => {
    const ir = compile(
      [web, client],
      [
        netpol("prod/a", { ingress: [{ ports: [{ port: 80 }] }] }),
        netpol("prod/b", {
          podSelector: { matchLabels: { app: "web" } },
          ingress: [{ ports: [{ port: 443 }] }],
        }),
      ],
    );
    expect(allows(ir, "ing/prod/web")).toEqual([
      "meta l4proto tcp th dport 80 accept",
      "meta l4proto tcp th dport 443 accept",
    ]);
    expect(ir.pods[0]!.ingress!.policies).toEqual(["a", "b"]);
  });

  test("the same result whatever the order of the inputs (deterministic names and rules)", () => {
    const pols = [
      netpol("prod/a", { ingress: [{ from: [{ podSelector: { matchLabels: { app: "db" } } }] }] }),
      netpol("prod/b", { ingress: [{ from: [{ namespaceSelector: {} }] }] }),
    ];
    const x = compile([web, db, client], pols);
    const y = compile([client, db, web], [...pols].reverse());
    expect([...y.sets]).toEqual([...x.sets]);
    expect([...y.chains].sort()).toEqual([...x.chains].sort());
  });
});

describe("peers (§2 Peer, selectors)", () => {
  test("podSelector alone: matching pods of the policy's own namespace only", () => {
    const other = pod("dev/db", ["10.0.0.7"], { labels: { app: "db" } });
    const ir = compile(
      [web, db, other],
      [netpol("prod/p", { ingress: [{ from: [{ podSelector: { matchLabels: { app: "db" } } }] }] })],
    );
    const [v4, v6] = allows(ir, "ing/prod/web");
    expect(v4).toMatch(/^ip saddr @pods4-[0-9a-f]{12} accept$/);
    expect(v6).toMatch(/^ip6 saddr @pods6-[0-9a-f]{12} accept$/);
    expect(setIn(ir, v4!)).toEqual(["10.0.0.2"]);
    expect(setIn(ir, v6!)).toEqual([]);
  });

  test("namespaceSelector alone: every pod of matching namespaces; {} means all pods, no external IPs", () => {
    const ir = compile(
      [web, db, client],
      [netpol("prod/p", { ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "dev" } } }] }] })],
      { namespaces: [namespace("dev", { team: "dev" }), namespace("prod")] },
    );
    expect(setIn(ir, allows(ir, "ing/prod/web")[0]!)).toEqual(["10.0.0.9"]);
    const all = compile(
      [web, db, client],
      [netpol("prod/p", { ingress: [{ from: [{ namespaceSelector: {} }] }] })],
    );
    expect(setIn(all, allows(all, "ing/prod/web")[0]!)).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.9"]);
  });

  test("namespaces are selectable by kubernetes.io/metadata.name, even without a Namespace object", () => {
    const ir = compile(
      [web, client],
      [
        netpol("prod/p", {
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "dev" } } }] },
          ],
        }),
      ],
    );
    expect(setIn(ir, allows(ir, "ing/prod/web")[0]!)).toEqual(["10.0.0.9"]);
  });

  test("both selectors in one item AND; in two items OR", () => {
    const devDb = pod("dev/db", ["10.0.0.8"], { labels: { app: "db" } });
    const pods = [web, db, client, devDb];
    const nsDev = { matchLabels: { "kubernetes.io/metadata.name": "dev" } };
    const and = compile(pods, [
      netpol("prod/p", {
        ingress: [{ from: [{ namespaceSelector: nsDev, podSelector: { matchLabels: { app: "db" } } }] }],
      }),
    ]);
    expect(setIn(and, allows(and, "ing/prod/web")[0]!)).toEqual(["10.0.0.8"]);
    const or = compile(pods, [
      netpol("prod/p", {
        ingress: [{ from: [{ namespaceSelector: nsDev }, { podSelector: { matchLabels: { app: "db" } } }] }],
      }),
    ]);
    const rules = allows(or, "ing/prod/web");
    expect(rules).toHaveLength(4);
    expect(setIn(or, rules[0]!)).toEqual(["10.0.0.8", "10.0.0.9"]);
    expect(setIn(or, rules[2]!)).toEqual(["10.0.0.2"]);
  });

  test("matchExpressions: In, NotIn (matches pods without the key), Exists, DoesNotExist, ANDed with matchLabels", () => {
    const a = pod("prod/a", ["10.0.0.11"], { labels: { tier: "front", env: "x" } });
    const b = pod("prod/b", ["10.0.0.12"], { labels: { tier: "back" } });
    const c = pod("prod/c", ["10.0.0.13"], {});
    const members = (expr: object) => {
      const ir = compile(
        [web, a, b, c],
        [
          netpol("prod/p", {
            podSelector: { matchLabels: { app: "web" } },
            ingress: [{ from: [{ podSelector: expr }] }],
          }),
        ],
      );
      return setIn(ir, allows(ir, "ing/prod/web")[0]!);
    };
    expect(
      members({ matchExpressions: [{ key: "tier", operator: "In", values: ["front", "back"] }] }),
    ).toEqual(["10.0.0.11", "10.0.0.12"]);
    expect(members({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] })).toEqual([
      "10.0.0.1",
      "10.0.0.12",
      "10.0.0.13",
    ]);
    expect(members({ matchExpressions: [{ key: "env", operator: "Exists" }] })).toEqual(["10.0.0.11"]);
    expect(members({ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] })).toEqual([
      "10.0.0.1",
      "10.0.0.13",
    ]);
    expect(
      members({
        matchLabels: { tier: "front" },
        matchExpressions: [{ key: "env", operator: "DoesNotExist" }],
      }),
    ).toEqual([]);
  });

  test("one set per distinct peer, shared across policies; equivalent selectors share a name", () => {
    const ir = compile(
      [web, db],
      [
        netpol("prod/a", {
          ingress: [
            {
              from: [
                { podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["db", "x"] }] } },
              ],
            },
          ],
        }),
        netpol("prod/b", {
          ingress: [
            {
              from: [
                { podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["x", "db"] }] } },
              ],
              ports: [{ port: 5 }],
            },
          ],
        }),
      ],
    );
    const podSets = [...ir.sets.keys()].filter((n) => n.startsWith("pods"));
    expect(podSets).toHaveLength(2); // one per family
  });

  test("terminal, IP-less and hostNetwork pods are neither isolated nor peers", () => {
    const done = pod("prod/done", ["10.0.0.20"], { phase: "Succeeded", labels: { app: "db" } });
    const failed = pod("prod/failed", ["10.0.0.21"], { phase: "Failed", labels: { app: "db" } });
    const noIp = pod("prod/noip", [], { labels: { app: "db" } });
    const host = pod("prod/host", ["198.18.0.11"], { hostNetwork: true, labels: { app: "db" } });
    const ir = compile(
      [web, done, failed, noIp, host],
      [netpol("prod/p", { ingress: [{ from: [{ podSelector: { matchLabels: { app: "db" } } }] }] })],
    );
    expect(ir.pods.map((p) => p.name)).toEqual(["web"]);
    expect(setIn(ir, allows(ir, "ing/prod/web")[0]!)).toEqual([]);
  });
});

describe("ipBlock (§2 ipBlock)", () => {
  test("host bits are masked; except is a second interval set; only its own family", () => {
    const ir = compile(
      [web],
      [
        netpol("prod/p", {
          ingress: [
            {
              from: [
                { ipBlock: { cidr: "10.1.2.3/16", except: ["10.1.5.0/24", "fd00::/8", "192.168.0.0/24"] } },
              ],
            },
          ],
        }),
      ],
    );
    const [rule] = allows(ir, "ing/prod/web");
    expect(rule).toMatch(/^ip saddr @blk4-\w+ ip saddr != @blkx4-\w+ accept$/);
    expect(setIn(ir, rule!, 0)).toEqual(["10.1.0.0/16"]);
    expect(setIn(ir, rule!, 1)).toEqual(["10.1.5.0/24"]);
    expect(renderSetDecl(ir.sets.get(rule!.match(/@(blk4-\w+)/)![1]!)!)).toBe(
      "type ipv4_addr; flags interval;",
    );
  });

  test("nested excepts are merged (an interval set refuses overlaps); IPv6 blocks match ip6", () => {
    const ir = compile(
      [web],
      [
        netpol("prod/p", {
          ingress: [{ from: [{ ipBlock: { cidr: "fd00::/16", except: ["fd00:1::/32", "fd00:1:2::/48"] } }] }],
        }),
      ],
    );
    const [rule] = allows(ir, "ing/prod/web");
    expect(rule).toMatch(/^ip6 saddr @blk6-\w+ ip6 saddr != @blkx6-\w+ accept$/);
    expect(setIn(ir, rule!, 1)).toEqual(["fd00:1::/32"]);
  });

  test("egress to an ipBlock matches daddr; except only carves its own peer (another peer may allow)", () => {
    const ir = compile(
      [web],
      [
        netpol("prod/p", {
          policyTypes: ["Egress"],
          egress: [
            {
              to: [
                { ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } },
                { ipBlock: { cidr: "10.0.0.2/32" } },
              ],
            },
          ],
        }),
      ],
    );
    const rules = allows(ir, "egr/prod/web");
    expect(rules[0]).toMatch(/^ip daddr @blk4-\w+ ip daddr != @blkx4-\w+ return$/);
    expect(setIn(ir, rules[0]!)).toEqual(["0.0.0.0/0"]);
    expect(setIn(ir, rules[1]!)).toEqual(["10.0.0.2/32"]);
  });
});

describe("ports and protocols (§2 Ports)", () => {
  const ing = (ports: object[], pods = [web], sctp = true) => {
    const ir = compile(pods, [netpol("prod/p", { ingress: [{ ports: ports as never }] })], { sctp });
    return { ir, rules: allows(ir, "ing/prod/web") };
  };

  test("protocol defaults to TCP; a port alone; protocol without port = every port of it", () => {
    expect(ing([{ port: 80 }]).rules).toEqual(["meta l4proto tcp th dport 80 accept"]);
    expect(ing([{ protocol: "UDP" }]).rules).toEqual(["meta l4proto udp accept"]);
    expect(ing([{ protocol: "UDP" }, { protocol: "SCTP" }]).rules).toEqual([
      "meta l4proto { udp, sctp } accept",
    ]);
  });

  test("several entries are one lookup in an anonymous (proto . port) set; TCP, UDP, SCTP kept apart", () => {
    expect(ing([{ port: 53, protocol: "UDP" }, { port: 53 }, { port: 9, protocol: "SCTP" }]).rules).toEqual([
      "meta l4proto . th dport { tcp . 53, udp . 53, sctp . 9 } accept",
    ]);
  });

  test("endPort makes an inclusive range; overlaps merge", () => {
    expect(ing([{ port: 8000, endPort: 8080 }]).rules).toEqual([
      "meta l4proto tcp th dport 8000-8080 accept",
    ]);
    expect(ing([{ port: 8000, endPort: 8080 }, { port: 8080, endPort: 9000 }, { port: 22 }]).rules).toEqual([
      "meta l4proto . th dport { tcp . 22, tcp . 8000-9000 } accept",
    ]);
  });

  test("ingress named ports resolve on the local pod; the same name may differ per pod", () => {
    const a = pod("prod/a", ["10.0.0.31"], { ports: [{ name: "http", containerPort: 8080 }] });
    const b = pod("prod/b", ["10.0.0.32"], {
      ports: [
        { name: "http", containerPort: 9090 },
        { name: "dns", containerPort: 53, protocol: "UDP" },
      ],
    });
    const ir = compile(
      [a, b],
      [netpol("prod/p", { ingress: [{ ports: [{ port: "http" }, { port: "dns", protocol: "UDP" }] }] })],
    );
    expect(allows(ir, "ing/prod/a")).toEqual(["meta l4proto tcp th dport 8080 accept"]);
    expect(allows(ir, "ing/prod/b")).toEqual(["meta l4proto . th dport { tcp . 9090, udp . 53 } accept"]);
  });

  test("a named port the pod lacks (or has with another protocol) matches nothing; the pod stays isolated", () => {
    const a = pod("prod/a", ["10.0.0.31"], { ports: [{ name: "http", containerPort: 8080 }] });
    const ir = compile(
      [a],
      [netpol("prod/p", { ingress: [{ ports: [{ port: "http", protocol: "UDP" }, { port: "nope" }] }] })],
    );
    expect(allows(ir, "ing/prod/a")).toEqual([]);
    expect(chainRules(ir, "ing/prod/a").at(-1)).toBe("drop");
  });

  test("egress named ports resolve on each destination pod: (ip . proto . port) sets; none for ipBlocks", () => {
    const s1 = pod("prod/s1", ["10.0.0.41", "fd00::41"], {
      labels: { app: "srv" },
      ports: [{ name: "api", containerPort: 7001 }],
    });
    const s2 = pod("prod/s2", ["10.0.1.42"], {
      node: "n2",
      labels: { app: "srv" },
      ports: [{ name: "api", containerPort: 7002 }],
    });
    const ir = compile(
      [web, s1, s2],
      [
        netpol("prod/p", {
          podSelector: { matchLabels: { app: "web" } },
          policyTypes: ["Egress"],
          egress: [
            {
              to: [{ podSelector: { matchLabels: { app: "srv" } } }, { ipBlock: { cidr: "1.2.3.0/24" } }],
              ports: [{ port: "api" }],
            },
          ],
        }),
      ],
    );
    const rules = allows(ir, "egr/prod/web");
    expect(rules).toEqual([
      expect.stringMatching(/^ip daddr \. meta l4proto \. th dport @nport4-\w+ return$/),
      expect.stringMatching(/^ip6 daddr \. meta l4proto \. th dport @nport6-\w+ return$/),
    ]);
    expect(setIn(ir, rules[0]!)).toEqual(["10.0.0.41 . tcp . 7001", "10.0.1.42 . tcp . 7002"]);
    expect(setIn(ir, rules[1]!)).toEqual(["fd00::41 . tcp . 7001"]);
  });

  test("egress: numeric and named entries of one rule both apply; no `to` = any pod for the named ones", () => {
    const s1 = pod("dev/s1", ["10.0.0.41"], { ports: [{ name: "api", containerPort: 7001 }] });
    const ir = compile(
      [web, s1],
      [
        netpol("prod/p", {
          podSelector: { matchLabels: { app: "web" } },
          policyTypes: ["Egress"],
          egress: [{ ports: [{ port: "api" }, { port: 53, protocol: "UDP" }] }],
        }),
      ],
    );
    const rules = allows(ir, "egr/prod/web");
    expect(rules[0]).toBe("meta l4proto udp th dport 53 return");
    expect(setIn(ir, rules[1]!)).toEqual(["10.0.0.41 . tcp . 7001"]);
  });

  test("SCTP on a kernel that cannot enforce it: reported, the SCTP allow matches nothing, the pod stays isolated", () => {
    const { ir, rules } = ing([{ port: 9, protocol: "SCTP" }], [web], false);
    expect(rules).toEqual([]);
    expect(ir.problems).toEqual([
      { object: "prod/p", code: "sctp-unsupported", message: expect.any(String) },
    ]);
    expect(ing([{ port: 9, protocol: "SCTP" }, { port: 80 }], [web], false).rules).toEqual([
      "meta l4proto tcp th dport 80 accept",
    ]);
  });

  test("ports AND peers: every peer gets the rule's port match", () => {
    const ir = compile(
      [web, db],
      [
        netpol("prod/p", {
          ingress: [{ from: [{ podSelector: { matchLabels: { app: "db" } } }], ports: [{ port: 5432 }] }],
        }),
      ],
    );
    expect(allows(ir, "ing/prod/web")).toEqual([
      expect.stringMatching(/^ip saddr @pods4-\w+ meta l4proto tcp th dport 5432 accept$/),
      expect.stringMatching(/^ip6 saddr @pods6-\w+ meta l4proto tcp th dport 5432 accept$/),
    ]);
  });
});

describe("failures are reported, enforcement goes on (fail closed)", () => {
  test("a policy with an invalid port: reported; the pods it selects stay isolated; other policies still apply", () => {
    const ir = compile(
      [web],
      [
        netpol("prod/bad", { ingress: [{ ports: [{ port: 70000 }] }] }),
        netpol("prod/good", { ingress: [{ ports: [{ port: 80 }] }] }),
      ],
    );
    expect(ir.problems.map((p) => [p.object, p.code])).toEqual([["prod/bad", "policy-invalid"]]);
    expect(allows(ir, "ing/prod/web")).toEqual(["meta l4proto tcp th dport 80 accept"]);
    expect(ir.pods[0]!.ingress!.policies).toEqual(["bad", "good"]);
  });

  test("two local pods claiming one IP: the first keeps it in the maps, the conflict is reported", () => {
    const twin = pod("prod/twin", ["10.0.0.1"]);
    const ir = compile([web, twin], [netpol("prod/deny", {})]);
    expect(setElementTexts(ir.sets.get("ingress-pods4")!)).toEqual(["10.0.0.1 : jump ing/prod/twin"]);
    expect(ir.problems.map((p) => p.code)).toEqual(["pod-ip-conflict"]);
  });

  test("long names stay within the kernel's limits", () => {
    const long = pod(`prod/${"x".repeat(250)}`, ["10.0.0.50"]);
    const ir = compile([long], [netpol("prod/deny", {})]);
    const name = [...ir.chains.keys()].find((n) => n.startsWith("ing/"))!;
    expect(name.length).toBeLessThanOrEqual(200);
    expect(
      chainRules(ir, name)
        .at(-2)!
        .match(/log prefix "([^"]*)"/)![1]!.length,
    ).toBeLessThanOrEqual(127);
  });
});
