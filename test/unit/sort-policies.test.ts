// replaceSorted keeps a compile-order array equal to sortPolicies of the same policies, whatever
// sequence of adds, replacements and removals it is given (the incremental compiler relies on it).
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { objectKey, replaceSorted, sortPolicies } from "../../src/calc/sort-policies.ts";
import type { NetworkPolicyResource } from "../../src/model/k8s-resources.ts";

const policy = (ns: string, name: string, v: number): NetworkPolicyResource =>
  ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { namespace: ns, name, labels: { v: String(v) } },
    spec: { podSelector: {} },
  }) as NetworkPolicyResource;

describe("replaceSorted", () => {
  test("equals a full sort after any sequence of upserts and deletes", () => {
    const op = fc.record({
      ns: fc.constantFrom("a", "b", "kube-system", "Z", "default"),
      name: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,6}$/),
      del: fc.boolean(),
      v: fc.nat(3),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const map = new Map<string, NetworkPolicyResource>();
        const sorted: NetworkPolicyResource[] = [];
        for (const o of ops) {
          const key = `${o.ns}/${o.name}`;
          const old = map.get(key);
          const next = o.del ? undefined : policy(o.ns, o.name, o.v);
          if (next) map.set(key, next);
          else map.delete(key);
          replaceSorted(sorted, old, next);
          expect(sorted).toEqual(sortPolicies(map.values()));
          expect(sorted.every((p, i) => p === sortPolicies(map.values())[i])).toBe(true);
        }
        expect(sorted.map(objectKey)).toEqual([...map.keys()].sort((a, b) => a.localeCompare(b)));
      }),
      { numRuns: 300 },
    );
  });
});
