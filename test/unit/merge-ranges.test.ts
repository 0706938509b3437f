// mergeRanges (one sort, one pass) against the previous implementation (a filter and a sort per
// protocol): the same merged ranges, in the same order, for random lists of ranges.
import { describe, expect, test } from "bun:test";
import { mergeRanges, type PortRange } from "../../src/calc/policy-ports.ts";
import type { Protocol } from "../../src/model/k8s-resources.ts";

const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];
function reference(ranges: readonly PortRange[]): PortRange[] {
  const out: PortRange[] = [];
  for (const protocol of PROTOCOLS) {
    const mine = ranges.filter((r) => r.protocol === protocol).sort((a, b) => a.from - b.from || a.to - b.to);
    let cur: PortRange | undefined;
    for (const r of mine) {
      if (cur && r.from <= cur.to + 1) cur.to = Math.max(cur.to, r.to);
      else {
        if (cur) out.push(cur);
        cur = { protocol: r.protocol, from: r.from, to: r.to };
      }
    }
    if (cur) out.push(cur);
  }
  return out;
}

describe("mergeRanges", () => {
  test("equals the per-protocol merge on random lists; the input is not changed", () => {
    let seed = 3;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let merged = 0;
    for (let i = 0; i < 5000; i++) {
      const ranges: PortRange[] = Array.from({ length: rnd(6) }, () => {
        const from = rnd(40);
        return { protocol: PROTOCOLS[rnd(3)]!, from, to: from + rnd(5) };
      });
      if (rnd(10) === 0) ranges.push({ protocol: "ICMP" as Protocol, from: 1, to: 2 });
      const before = JSON.stringify(ranges);
      const got = mergeRanges(ranges);
      expect(got).toEqual(reference(ranges));
      expect(JSON.stringify(ranges)).toBe(before);
      if (got.length < ranges.length) merged++;
    }
    expect(merged).toBeGreaterThan(500);
  });

  test("adjacent ranges of one protocol join, other protocols stay apart, TCP first", () => {
    expect(
      mergeRanges([
        { protocol: "UDP", from: 53, to: 53 },
        { protocol: "TCP", from: 81, to: 90 },
        { protocol: "TCP", from: 80, to: 80 },
        { protocol: "UDP", from: 54, to: 60 },
      ]),
    ).toEqual([
      { protocol: "TCP", from: 80, to: 90 },
      { protocol: "UDP", from: 53, to: 60 },
    ]);
  });
});
