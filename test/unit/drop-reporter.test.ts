// The drop reporter's parts without a kernel: the bounded ring with subscribers, the token bucket,
// and the reporter itself on a fake log source: names from the policy mirror, the isolating
// policies, the agent's limiter counting what it holds back, and the kernel's limit found by
// reconciling the exact drop counters with what was logged.
import { describe, expect, test } from "bun:test";
import { type DropLookup, DropReporter } from "../../src/agent/drop-reporter.ts";
import { dropMatches } from "../../src/agent/drops-api.ts";
import { RecordRing } from "../../src/agent/record-ring.ts";
import { TokenBucket } from "../../src/agent/token-bucket.ts";
import type { DropLogBatch, DropLogSource, LoggedPacket } from "../../src/dataplane/drop-log-source.ts";
import type { DropEvent, DropRecord, DropSuppressed } from "../../src/model/agent-api.ts";
import { ManualTimers } from "../harness/manual-timers.ts";

describe("RecordRing", () => {
  test("keeps the last `capacity` records, oldest first", () => {
    const r = new RecordRing<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.list()).toEqual([3, 4, 5]);
    expect(r.length).toBe(3);
  });

  test("subscribers see every push until they unsubscribe", () => {
    const r = new RecordRing<string>(2);
    const seen: string[] = [];
    const off = r.subscribe((x) => seen.push(x));
    r.push("a");
    r.push("b");
    r.push("c");
    off();
    r.push("d");
    expect(seen).toEqual(["a", "b", "c"]);
    expect(r.subscriberCount).toBe(0);
  });

  test("a capacity below 1 is refused", () => {
    expect(() => new RecordRing(0)).toThrow(/capacity/);
  });
});

describe("TokenBucket", () => {
  test("passes a burst, then the rate", () => {
    let t = 0;
    const b = new TokenBucket(10, 5, () => t);
    const passed = () => Array.from({ length: 20 }, () => b.take()).filter(Boolean).length;
    expect(passed()).toBe(5);
    t += 1000; // 10 tokens, capped at the burst of 5
    expect(passed()).toBe(5);
    t += 300; // 3 tokens
    expect(passed()).toBe(3);
  });
});

class FakeSource implements DropLogSource {
  readonly group = 7474;
  queue: LoggedPacket[] = [];
  closed = false;
  poll(): DropLogBatch {
    const packets = this.queue;
    this.queue = [];
    return { packets, lost: 0 };
  }
  close(): void {
    this.closed = true;
  }
}

const web = { namespace: "prod", name: "web", node: "node-1" };
const client = { namespace: "dev", name: "client", node: "node-2" };
const ips: Record<string, typeof web> = { "10.244.0.3": web, "10.244.1.2": client };
const lookup: DropLookup = {
  podByIp: (ip) => ips[ip],
  isolation: (pod, dir) =>
    pod === "prod/web" && dir === "ingress"
      ? { policies: ["default-deny", "web-from-dev"], counter: "drop/ing/prod/web" }
      : undefined,
  counterOwner: (c) =>
    c === "drop/ing/prod/web"
      ? { pod: "prod/web", direction: "ingress", policies: ["default-deny", "web-from-dev"] }
      : undefined,
};
const packet = (over: Partial<LoggedPacket> = {}): LoggedPacket => ({
  prefix: "tartan-drop ing prod/web",
  family: 4,
  src: "10.244.1.2",
  dst: "10.244.0.3",
  protocol: "TCP",
  srcPort: 40000,
  dstPort: 8080,
  length: 60,
  ...over,
});

function setup(
  opts: { counters?: () => Map<string, number>; limit?: { perSecond: number; burst: number } } = {},
) {
  const timers = new ManualTimers();
  const source = new FakeSource();
  const counters = opts.counters ?? (() => new Map<string, number>());
  const r = new DropReporter({
    nodeName: "node-1",
    open: () => source,
    lookup,
    readCounters: async () => counters(),
    timers,
    log: () => {},
    now: () => Date.UTC(2026, 11, 5, 10, 0, 0) + timers.now,
    monotonic: () => timers.now,
    ...(opts.limit ? { limit: opts.limit } : {}),
  });
  return { timers, source, r };
}

const settle = () => new Promise((res) => setTimeout(res, 0));

describe("DropReporter", () => {
  test("a logged packet becomes a record with both pods' names and the isolating policies", async () => {
    const { timers, source, r } = setup();
    r.start();
    await settle();
    const live: DropRecord[] = [];
    r.ring.subscribe((x) => live.push(x));
    source.queue.push(packet());
    timers.advance(100);
    expect(live).toEqual([
      {
        kind: "drop",
        seq: 1,
        time: "2026-12-05T10:00:00.100Z",
        node: "node-1",
        direction: "ingress",
        src: { ip: "10.244.1.2", port: 40000, namespace: "dev", pod: "client", node: "node-2" },
        dst: { ip: "10.244.0.3", port: 8080, namespace: "prod", pod: "web", node: "node-1" },
        protocol: "TCP",
        pod: "prod/web",
        policies: ["default-deny", "web-from-dev"],
      },
    ]);
    expect(r.answer(r.ring.list())).toMatchObject({ node: "node-1", listening: true, group: 7474 });
    r.stop();
    expect(source.closed).toBe(true);
    expect(timers.size).toBe(0);
  });

  test("an address no pod holds is shown as the address; foreign prefixes are ignored", () => {
    const { timers, source, r } = setup();
    r.start();
    source.queue.push(packet({ src: "192.0.2.9" }), packet({ prefix: "someone-else" }));
    timers.advance(100);
    const [e] = r.ring.list() as DropEvent[];
    expect(r.ring.length).toBe(1);
    expect(e!.src).toEqual({ ip: "192.0.2.9", port: 40000 });
    r.stop();
  });

  test("the agent's limiter holds records back and reports how many, per pod, once a second", () => {
    const { timers, source, r } = setup({ limit: { perSecond: 5, burst: 5 } });
    r.start();
    for (let i = 0; i < 12; i++) source.queue.push(packet());
    timers.advance(100);
    expect(r.ring.list().filter((x) => x.kind === "drop").length).toBe(5);
    timers.advance(900); // the flush
    const s = r.ring.list().find((x) => x.kind === "suppressed") as DropSuppressed;
    expect(s).toMatchObject({ kind: "suppressed", pod: "prod/web", direction: "ingress", count: 7 });
    expect(s.policies).toEqual(["default-deny", "web-from-dev"]);
    r.stop();
  });

  test("the kernel's limit: counted minus logged is reported as suppressed", async () => {
    let counter = 100; // before the reporter started
    const { timers, source, r } = setup({ counters: () => new Map([["drop/ing/prod/web", counter]]) });
    r.start();
    await settle(); // the baseline read
    // A flood: 500 packets dropped, 30 logged (the kernel's 10/s, burst 20).
    counter += 500;
    for (let i = 0; i < 30; i++) source.queue.push(packet());
    timers.advance(1000); // poll + flush: nothing held back by the agent
    expect(r.ring.list().some((x) => x.kind === "suppressed")).toBe(false);
    timers.advance(1000); // 30 logged ≥ 10 and 2 s since the last read: the counters are read
    await settle();
    timers.advance(1000); // the next flush reports the difference
    const s = r.ring.list().filter((x): x is DropSuppressed => x.kind === "suppressed");
    expect(s.map((x) => x.count)).toEqual([470]);
    expect(r.ring.list().filter((x) => x.kind === "drop").length).toBe(30);
    // The flood's tail: 5 more logged (below the threshold) and 40 more counted; the reconcile
    // after one that found drops held back runs anyway, so every counted drop is accounted for.
    counter += 45;
    for (let i = 0; i < 5; i++) source.queue.push(packet());
    timers.advance(1000);
    await settle();
    timers.advance(1000);
    const all = r.ring.list();
    const total =
      all.filter((x) => x.kind === "drop").length +
      all.filter((x): x is DropSuppressed => x.kind === "suppressed").reduce((n, x) => n + x.count, 0);
    expect(total).toBe(545);
    r.stop();
  });

  test("a log group that cannot be opened is reported, not thrown", () => {
    const timers = new ManualTimers();
    const r = new DropReporter({
      nodeName: "n",
      open: () => {
        throw new Error("nfnetlink_log: binding log group 7474: Device or resource busy");
      },
      lookup,
      readCounters: async () => new Map(),
      timers,
      log: () => {},
    });
    r.start();
    expect(r.answer([])).toMatchObject({ listening: false, problem: expect.stringContaining("busy") });
    expect(timers.size).toBe(0);
  });
});

describe("dropMatches", () => {
  const e = {
    kind: "drop",
    src: { ip: "a", namespace: "dev", pod: "client" },
    dst: { ip: "b", namespace: "prod", pod: "web" },
    pod: "prod/web",
  } as DropEvent;
  test("either end, by namespace and/or pod", () => {
    expect(dropMatches(e, "dev", undefined)).toBe(true);
    expect(dropMatches(e, "prod", "web")).toBe(true);
    expect(dropMatches(e, "dev", "web")).toBe(false);
    expect(dropMatches(e, undefined, "client")).toBe(true);
    expect(dropMatches(e, "kube-system", undefined)).toBe(false);
  });
});
