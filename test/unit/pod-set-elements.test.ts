import { describe, expect, test } from "bun:test";
import { podSetElements } from "../../src/calc/policy-peer-source.ts";
import type { PolicyPod } from "../../src/calc/policy-pods.ts";

const pod = (i: number, v4: string[], v6: string[] = []): PolicyPod => ({
  namespace: "ns",
  name: `p${i}`,
  key: `ns/p${i}`,
  labels: {},
  node: "n1",
  ips4: v4,
  ips6: v6,
  ports: [],
});

describe("podSetElements", () => {
  test("the pods' addresses of one family, unique and sorted, like a Set sorted", () => {
    let seed = 11;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      // Few distinct addresses among many pods: IP conflicts (shared addresses) are common.
      const pods = Array.from({ length: rnd(40) }, (_, i) =>
        pod(
          i,
          Array.from({ length: rnd(3) }, () => `10.0.${rnd(3)}.${rnd(12)}`),
          Array.from({ length: rnd(2) }, () => `fd00::${rnd(20).toString(16)}`),
        ),
      );
      for (const f of [4, 6] as const) {
        const want = [...new Set(pods.flatMap((p) => (f === 4 ? p.ips4 : p.ips6)))].sort();
        expect(podSetElements(pods, f)).toEqual(want);
      }
    }
    expect(podSetElements([], 4)).toEqual([]);
    expect(podSetElements([pod(1, ["10.0.0.2", "10.0.0.1"]), pod(2, ["10.0.0.2"])], 4)).toEqual([
      "10.0.0.1",
      "10.0.0.2",
    ]);
  });
});
