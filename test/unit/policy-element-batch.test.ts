// When the policy delta offers its change as an element batch (decision 0020): element adds and
// deletes only, in plain address sets only, and not too many; anything else is a script only.
import { describe, expect, test } from "bun:test";
import { EMPTY_POLICY_IR, type PolicyIR } from "../../src/calc/policy-ir.ts";
import type { PolicySet } from "../../src/calc/policy-set.ts";
import { ELEMENT_BATCH_MAX, policyStateOf, renderPolicyDelta } from "../../src/render/policy-nft.ts";

const addr = (name: string, family: 4 | 6, elements: string[], interval = false): PolicySet => ({
  name,
  kind: "set",
  type: "addr",
  family,
  interval,
  elements,
});
const ir = (...sets: PolicySet[]): PolicyIR => ({
  ...EMPTY_POLICY_IR,
  sets: new Map(sets.map((s) => [s.name, s])),
});

describe("policy delta as an element batch", () => {
  const before = ir(addr("p4", 4, ["10.0.0.1", "10.0.0.2"]), addr("p6", 6, ["fd00::1"]));
  const state = policyStateOf(before);

  test("element adds and deletes in plain address sets: deletes first, same changes as the script", () => {
    const d = renderPolicyDelta(
      state,
      ir(addr("p4", 4, ["10.0.0.2", "10.0.0.3"]), addr("p6", 6, ["fd00::2"])),
    );
    expect(d.elements).toEqual([
      { verb: "delete", set: "p4", family: 4, elements: ["10.0.0.1"] },
      { verb: "delete", set: "p6", family: 6, elements: ["fd00::1"] },
      { verb: "add", set: "p4", family: 4, elements: ["10.0.0.3"] },
      { verb: "add", set: "p6", family: 6, elements: ["fd00::2"] },
    ]);
    expect(d.changes).toBe(4);
    expect(d.script).toContain("delete element inet tartan p4 { 10.0.0.1 }");
  });

  test("a new set, an interval set's change or a named-port set's change: script only", () => {
    expect(renderPolicyDelta(state, ir(...before.sets.values(), addr("q4", 4, []))).elements).toBeUndefined();
    const withBlock = ir(...before.sets.values(), addr("b4", 4, ["10.1.0.0/16"], true));
    const blockState = policyStateOf(withBlock);
    const d = renderPolicyDelta(
      blockState,
      ir(...before.sets.values(), addr("b4", 4, ["10.2.0.0/16"], true)),
    );
    expect(d.script).toContain("add element inet tartan b4 { 10.2.0.0/16 }");
    expect(d.elements).toBeUndefined();
    const port = (elements: { addr: string; protocol: "TCP"; port: number }[]): PolicySet => ({
      name: "np4",
      kind: "set",
      type: "addr-proto-port",
      family: 4,
      elements,
    });
    const ps = policyStateOf(ir(port([{ addr: "10.0.0.1", protocol: "TCP", port: 80 }])));
    const pd = renderPolicyDelta(ps, ir(port([{ addr: "10.0.0.2", protocol: "TCP", port: 80 }])));
    expect(pd.script).toContain("add element inet tartan np4 { 10.0.0.2 . tcp . 80 }");
    expect(pd.elements).toBeUndefined();
  });

  test("more than ELEMENT_BATCH_MAX element changes: script only", () => {
    const many = Array.from({ length: ELEMENT_BATCH_MAX + 1 }, (_, i) => `10.9.${i >> 8}.${i & 255}`).sort();
    const d = renderPolicyDelta(
      state,
      ir(addr("p4", 4, [...state.sets.get("p4")!.elements, ...many].sort()), addr("p6", 6, ["fd00::1"])),
    );
    expect(d.changes).toBe(ELEMENT_BATCH_MAX + 1);
    expect(d.elements).toBeUndefined();
    const fits = renderPolicyDelta(
      state,
      ir(
        addr("p4", 4, [...state.sets.get("p4")!.elements, ...many.slice(1)].sort()),
        addr("p6", 6, ["fd00::1"]),
      ),
    );
    expect(fits.elements?.[0]?.elements).toHaveLength(ELEMENT_BATCH_MAX);
  });

  test("nothing to do: no script, no batch", () => {
    expect(renderPolicyDelta(state, before)).toEqual({ script: "", changes: 0 });
  });
});
