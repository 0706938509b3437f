// A policy IR of a valid cluster (one pod isolated by a default-deny) with every string the
// renderer takes from the IR made hostile: chain and counter name, log prefix, chain note, the
// verdict map's jump target. What could reach render/ if validation on ingestion were bypassed.
import { expect } from "bun:test";
import { compilePolicy } from "../../src/calc/compile-policy.ts";
import type { PolicyChain, PolicyIR, PolicySet } from "../../src/calc/policy-ir.ts";
import { netpol, pod } from "./k8s-objects.ts";

export const HOSTILE = 'evil"\n}\nflush ruleset\r\n# \\x\u0000\u001b[2J';
const web = pod("prod/web", ["10.0.0.1"], { labels: { app: "web" } });
const deny = netpol("prod/default-deny", { podSelector: {}, policyTypes: ["Ingress"] });

export function hostilePolicyIr(): PolicyIR {
  const ir = compilePolicy({ nodeName: "n1", pods: [web], namespaces: [], policies: [deny] });
  const oldName = "ing/prod/web";
  const chain = ir.chains.get(oldName)!;
  expect(chain).toBeDefined();
  const name = `ing/prod/${HOSTILE}`;
  const counter = `drop/${name}`;
  const rules = chain.rules.map((r) => ({
    ...r,
    ...(r.counter ? { counter } : {}),
    ...(r.log ? { log: { ...r.log, prefix: `tartan-drop ing prod/${HOSTILE}` } } : {}),
  }));
  const hostileChain: PolicyChain = { ...chain, name, rules, note: `by ${HOSTILE}` };
  const chains = new Map([...ir.chains].filter(([n]) => n !== oldName));
  chains.set(name, hostileChain);
  const sets = new Map<string, PolicySet>(
    [...ir.sets].map(([n, s]): [string, PolicySet] =>
      s.type === "addr-verdict"
        ? [n, { ...s, elements: s.elements.map((e) => ({ ...e, jump: e.jump === oldName ? name : e.jump })) }]
        : [n, s],
    ),
  );
  const counters = new Set([...ir.counters].map((c) => (c === `drop/${oldName}` ? counter : c)));
  return { ...ir, chains, sets, counters };
}
