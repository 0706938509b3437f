import type { Direction } from "../calc/policy-names.ts";
import type { DropLogSource, LoggedPacket } from "../dataplane/drop-log-source.ts";
import type { DropEndpoint, DropEvent, DropRecord, DropsAnswer } from "../model/agent-api.ts";
import { type AgentLog, errorFields } from "./agent-log.ts";
import type { AgentTimers } from "./agent-timers.ts";
import { RecordRing } from "./record-ring.ts";
import { TokenBucket } from "./token-bucket.ts";

/** What the reporter asks the policy manager (its mirrors and IR). */
export interface DropLookup {
  /** The pod holding this address, on any node (the policy mirror holds every Pod). */
  podByIp(ip: string): { namespace: string; name: string; node?: string } | undefined;
  /** A local pod's isolation in one direction: its policies and drop counter; undefined: not isolated. */
  isolation(pod: string, dir: Direction): { policies: string[]; counter: string } | undefined;
  /** The reverse: which pod and direction a drop counter counts. */
  counterOwner(counter: string): { pod: string; direction: Direction; policies: string[] } | undefined;
}

export interface DropReporterDeps {
  nodeName: string;
  /** Opens the log group (the nfnetlink_log socket in this namespace); throws when it cannot. */
  open: () => DropLogSource;
  lookup: DropLookup;
  /** Packets of every drop counter by name (`nft -j list table`): read only when reports were suppressed. */
  readCounters: () => Promise<Map<string, number>>;
  timers: AgentTimers;
  log: AgentLog;
  /** Wall clock (ms since the epoch) for record times; monotonic time for the limiter. */
  now?: () => number;
  monotonic?: () => number;
  ringSize?: number;
  /** Records per second the agent passes on (all pods together) before it counts instead. */
  limit?: { perSecond: number; burst: number };
}

/** How often the log socket is read: the latency of a live drop is at most this (plus the kernel's). */
export const DROP_POLL_MS = 100;
/** Suppressed counts are reported, and counters reconciled, at most this often. */
const FLUSH_MS = 1000;
const RECONCILE_MS = 2000;
/**
 * Packets logged for one counter since the last reconcile from which the kernel's limit (10/s,
 * burst 20, render/ policy chains) may have held some back: only then are the counters read.
 */
const RECONCILE_AFTER = 10;
const DEFAULT_LIMIT = { perSecond: 100, burst: 200 };
const PREFIX = /^tartan-drop (ing|egr) (\S+)$/;

interface Pending {
  pod: string;
  direction: Direction;
  policies: string[];
  count: number;
  since: number;
}

/**
 * Every packet dropped by policy on this node, with names: reads the log group the drop rules
 * write to (`log group N`, rate-limited in the kernel so a flood costs nothing), maps addresses to
 * pods through the policy mirror, names the isolating policies, and keeps the last records in a
 * bounded ring with live subscribers (`tartan drops [--follow]`, the web view). What is not
 * reported one by one is counted: the agent's own limiter (all pods together), and the kernel's
 * limit, found by reconciling the exact drop counters with what was logged; both become
 * `suppressed` records.
 */
export class DropReporter {
  readonly ring: RecordRing<DropRecord>;
  private source: DropLogSource | undefined;
  private problem: string | undefined;
  private poller: unknown;
  private flusher: unknown;
  private seq = 0;
  private readonly limiter: TokenBucket;
  private readonly now: () => number;
  /** Per drop counter: packets logged since the last reconcile. */
  private logged = new Map<string, number>();
  /** Per drop counter: packets not reported since the last flush. */
  private pending = new Map<string, Pending>();
  /** The counters at the last reconcile (undefined: never read; the first read only sets them). */
  private baseline: Map<string, number> | undefined;
  private lastReconcile = Number.NEGATIVE_INFINITY;
  private reconciling = false;
  private lost = 0;
  /** The last reconcile found drops the kernel held back: reconcile again (the flood's tail). */
  private heldBack = false;
  private readonly mono: () => number;

  constructor(private readonly d: DropReporterDeps) {
    this.ring = new RecordRing(d.ringSize ?? 1000);
    this.now = d.now ?? Date.now;
    this.mono = d.monotonic ?? (() => performance.now());
    const lim = d.limit ?? DEFAULT_LIMIT;
    this.limiter = new TokenBucket(lim.perSecond, lim.burst, d.monotonic);
  }

  /** Opens the log group and starts polling; a failure is reported (answer, log), not thrown. */
  start(): void {
    if (this.source || this.poller !== undefined) return;
    try {
      this.source = this.d.open();
    } catch (e) {
      this.problem = `cannot read the drop log: ${errorFields(e).error}`;
      this.d.log("warn", "drops are counted but not reported one by one", { reason: this.problem });
      return;
    }
    this.poller = this.d.timers.setInterval(() => this.poll(), DROP_POLL_MS);
    this.flusher = this.d.timers.setInterval(() => this.flush(), FLUSH_MS);
    void this.reconcile();
  }

  stop(): void {
    if (this.poller !== undefined) this.d.timers.clearInterval(this.poller);
    if (this.flusher !== undefined) this.d.timers.clearInterval(this.flusher);
    this.poller = this.flusher = undefined;
    this.source?.close();
    this.source = undefined;
  }

  answer(records: DropRecord[]): DropsAnswer {
    return {
      node: this.d.nodeName,
      listening: this.source !== undefined,
      ...(this.source ? { group: this.source.group } : {}),
      ...(this.problem ? { problem: this.problem } : {}),
      records,
    };
  }

  /** Reads what the socket holds now (the poll timer calls it; tests too). */
  poll(): void {
    if (!this.source) return;
    const batch = this.source.poll();
    this.lost += batch.lost;
    for (const p of batch.packets) this.onPacket(p);
  }

  private onPacket(p: LoggedPacket): void {
    const m = PREFIX.exec(p.prefix);
    if (!m) return; // another rule logging to our group: not ours to report
    const direction: Direction = m[1] === "ing" ? "ingress" : "egress";
    const src = this.endpoint(p.src, p.srcPort);
    const dst = this.endpoint(p.dst, p.dstPort);
    // The isolated pod is the local end; the prefix names it too (possibly cut to nft's length).
    const local = direction === "ingress" ? dst : src;
    const pod = local.pod ? `${local.namespace}/${local.pod}` : (m[2] as string);
    const iso = this.d.lookup.isolation(pod, direction);
    const policies = iso?.policies ?? [];
    if (iso) this.logged.set(iso.counter, (this.logged.get(iso.counter) ?? 0) + 1);
    if (!this.limiter.take()) {
      const key = iso?.counter ?? `${direction}|${pod}`;
      const q = this.pending.get(key);
      if (q) q.count++;
      else this.pending.set(key, { pod, direction, policies, count: 1, since: this.now() });
      return;
    }
    const e: DropEvent = {
      kind: "drop",
      seq: ++this.seq,
      time: new Date(this.now()).toISOString(),
      node: this.d.nodeName,
      direction,
      src,
      dst,
      protocol: String(p.protocol),
      ...(p.icmp ? { icmp: p.icmp } : {}),
      pod,
      policies,
    };
    this.ring.push(e);
  }

  private endpoint(ip: string, port: number | undefined): DropEndpoint {
    const pod = this.d.lookup.podByIp(ip);
    return {
      ip,
      ...(port !== undefined ? { port } : {}),
      ...(pod ? { namespace: pod.namespace, pod: pod.name, ...(pod.node ? { node: pod.node } : {}) } : {}),
    };
  }

  /** Once a second: suppressed counts become records; counters are reconciled when needed. */
  flush(): void {
    const due =
      this.lost > 0 ||
      this.heldBack ||
      [...this.logged.values()].some((n) => n >= RECONCILE_AFTER) ||
      this.baseline === undefined;
    if (due && this.mono() - this.lastReconcile >= RECONCILE_MS) void this.reconcile();
    const time = new Date(this.now()).toISOString();
    for (const q of this.pending.values()) {
      this.ring.push({
        kind: "suppressed",
        seq: ++this.seq,
        time,
        node: this.d.nodeName,
        direction: q.direction,
        pod: q.pod,
        policies: q.policies,
        count: q.count,
        since: new Date(q.since).toISOString(),
      });
    }
    this.pending.clear();
  }

  /**
   * The kernel's limit: per drop counter, packets counted since the last reconcile minus packets
   * logged is what the kernel did not copy to us (or what the socket lost); that is added to the
   * pending counts. The first read only sets the baseline.
   */
  async reconcile(): Promise<void> {
    if (this.reconciling) return;
    this.reconciling = true;
    this.lastReconcile = this.mono();
    try {
      this.poll(); // what is already in the socket counts as logged
      const counters = await this.d.readCounters();
      const logged = this.logged;
      this.logged = new Map();
      this.lost = 0;
      const before = this.baseline;
      this.baseline = counters;
      this.heldBack = false;
      if (!before) return;
      for (const [counter, packets] of counters) {
        let base = before.get(counter) ?? 0;
        if (packets < base) base = 0; // the counter was made anew (the pod's chain came back)
        const missing = packets - base - (logged.get(counter) ?? 0);
        if (missing <= 0) continue;
        const owner = this.d.lookup.counterOwner(counter);
        if (!owner) continue;
        this.heldBack = true;
        const q = this.pending.get(counter);
        if (q) q.count += missing;
        else this.pending.set(counter, { ...owner, count: missing, since: this.now() });
      }
    } catch (e) {
      this.d.log("warn", "reading the drop counters failed", errorFields(e));
    } finally {
      this.reconciling = false;
    }
  }
}
