import { describe, expect, test } from "bun:test";
import { eventually, GiveUp } from "../harness/eventually.ts";

describe("eventually (the tests' one poll loop)", () => {
  test("returns the first done value: a predicate, an assertion, a found value", async () => {
    let n = 0;
    expect(await eventually("n reaching 3", () => ++n >= 3, { timeoutMs: 1000, intervalMs: 1 })).toBe(true);
    expect(n).toBe(3);
    let m = 0;
    await eventually(
      "m reaching 2",
      () => {
        m++;
        expect(m).toBe(2);
      },
      { timeoutMs: 1000, intervalMs: 1 },
    );
    expect(m).toBe(2);
    let k = 0;
    expect(
      await eventually("k above 1", () => ++k, { timeoutMs: 1000, intervalMs: 0, until: (v) => v > 1 }),
    ).toBe(2);
  });

  test("a timeout names what was awaited and the last value or error", async () => {
    await expect(eventually("the flag", () => false, { timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(
      "the flag: not within 30 ms (last value: false)",
    );
    await expect(
      eventually(
        "the route",
        () => {
          throw new Error("no route yet");
        },
        { timeoutMs: 30, intervalMs: 5 },
      ),
    ).rejects.toThrow("the route: not within 30 ms (last error: no route yet)");
  });

  test('onTimeout "last" returns the last value for the caller to assert on', async () => {
    let n = 0;
    const v = await eventually("n above 1000", () => ++n, {
      timeoutMs: 30,
      intervalMs: 5,
      until: (x) => x > 1000,
      onTimeout: "last",
    });
    expect(v).toBe(n);
    expect(v).toBeLessThan(1000);
  });

  test("a GiveUp fails at once, without waiting out the time", async () => {
    const t0 = performance.now();
    await expect(
      eventually(
        "the server",
        () => {
          throw new GiveUp("it exited");
        },
        { timeoutMs: 10_000 },
      ),
    ).rejects.toThrow("the server: it exited");
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

test("with `found`, a probe returning undefined while there is nothing yet", async () => {
  let n = 0;
  const v: string = await eventually("the third try", () => (++n === 3 ? "three" : undefined), {
    timeoutMs: 1000,
    intervalMs: 1,
    found: true,
  });
  expect(v).toBe("three");
});
