import { describe, expect, test } from "bun:test";
import { CoalescingTrigger } from "../../src/agent/coalescing-trigger.ts";
import { ROUTING_SETTLE_MS, RoutingManager } from "../../src/agent/routing-manager.ts";

/** A clock the test moves, and the settle waits the trigger asked for (resolved by the test). */
function clock() {
  const c = {
    t: 1000,
    sleeps: [] as { ms: number; wake: () => void }[],
    now: () => c.t,
    sleep: (ms: number) =>
      new Promise<void>((wake) => {
        c.sleeps.push({ ms, wake });
      }),
    /** Moves the clock past the oldest wait and ends it. */
    wakeFirst: () => {
      const s = c.sleeps.shift()!;
      c.t += s.ms;
      s.wake();
    },
  };
  return c;
}

const tick = () => new Promise((r) => setImmediate(r));

describe("CoalescingTrigger settle window", () => {
  test("a lone trigger after a quiet spell runs at once; one right after a run waits as long as the run took", async () => {
    const c = clock();
    const runs: number[] = [];
    const t = new CoalescingTrigger(
      async () => {
        runs.push(c.t);
        c.t += 30; // the run takes 30 ms
      },
      () => {},
      { settleMs: 50, now: c.now, sleep: c.sleep },
    );
    t.trigger();
    await t.idle();
    expect(runs).toEqual([1000]);
    expect(c.sleeps).toEqual([]);
    // 10 ms after a run that took 30 ms: waits the remaining 20 ms.
    c.t += 10;
    t.trigger();
    await tick();
    expect(c.sleeps.map((s) => s.ms)).toEqual([20]);
    expect(runs).toHaveLength(1);
    // Everything arriving during the wait joins that one run.
    for (let i = 0; i < 5; i++) t.trigger();
    c.wakeFirst();
    await t.idle();
    expect(runs).toEqual([1000, 1060]);
    // Long after: at once again.
    c.t += 500;
    t.trigger();
    await t.idle();
    expect(runs).toEqual([1000, 1060, 1590]);
    expect(c.sleeps).toEqual([]);
  });

  test("a burst: triggers during a long run cause one more run, settleMs (the cap) after it ended", async () => {
    const c = clock();
    const runs: number[] = [];
    let during: (() => void) | undefined;
    const t = new CoalescingTrigger(
      async () => {
        runs.push(c.t);
        during?.();
        c.t += 100;
      },
      () => {},
      { settleMs: 50, now: c.now, sleep: c.sleep },
    );
    during = () => {
      during = undefined;
      for (let i = 0; i < 16; i++) t.trigger(); // 16 watch batches arrive while the first run goes
    };
    t.trigger();
    await tick();
    await tick();
    expect(c.sleeps.map((s) => s.ms)).toEqual([50]);
    c.wakeFirst();
    await t.idle();
    expect(runs).toEqual([1000, 1150]);
  });

  test("settleMs 0 never waits, nor does a run after one that took no time; stop() during a wait ends without running", async () => {
    const c = clock();
    let runs = 0;
    const plain = new CoalescingTrigger(
      async () => {
        runs++;
      },
      () => {},
      { settleMs: 0, now: c.now, sleep: c.sleep },
    );
    plain.trigger();
    await plain.idle();
    plain.trigger();
    await plain.idle();
    expect(runs).toBe(2);
    expect(c.sleeps).toEqual([]);

    // A run that took no time: the next one does not wait either.
    const instant = new CoalescingTrigger(
      async () => {
        runs++;
      },
      () => {},
      { settleMs: 50, now: c.now, sleep: c.sleep },
    );
    instant.trigger();
    await instant.idle();
    instant.trigger();
    await instant.idle();
    expect(runs).toBe(4);
    expect(c.sleeps).toEqual([]);

    const settled = new CoalescingTrigger(
      async () => {
        runs++;
        c.t += 5;
      },
      () => {},
      { settleMs: 50, now: c.now, sleep: c.sleep },
    );
    settled.trigger();
    await settled.idle();
    settled.trigger();
    await tick();
    expect(c.sleeps).toHaveLength(1);
    settled.stop();
    expect(c.sleeps[0]!.ms).toBe(5);
    c.wakeFirst();
    await settled.idle();
    expect(runs).toBe(5);
  });

  test("a throwing run still counts as a run for the window", async () => {
    const c = clock();
    const errors: unknown[] = [];
    const t = new CoalescingTrigger(
      async () => {
        c.t += 80;
        throw new Error("boom");
      },
      (e) => errors.push(e),
      { settleMs: 50, now: c.now, sleep: c.sleep },
    );
    t.trigger();
    await t.idle();
    t.trigger();
    await tick();
    expect(c.sleeps.map((s) => s.ms)).toEqual([50]);
    c.wakeFirst();
    await t.idle();
    expect(errors).toHaveLength(2);
  });
});

describe("RoutingManager", () => {
  test("settles its applies; a resync makes the kernel port compare with the kernel itself", () => {
    let verified = 0;
    const m = new RoutingManager(
      {
        setDesired: () => {},
        apply: async () => undefined,
        verify: () => {
          verified++;
        },
      },
      // The context is not read by resync().
      {} as ConstructorParameters<typeof RoutingManager>[1],
    );
    expect(m.settleMs).toBe(ROUTING_SETTLE_MS);
    expect(ROUTING_SETTLE_MS).toBeLessThanOrEqual(100);
    m.resync();
    expect(verified).toBe(1);
  });
});
