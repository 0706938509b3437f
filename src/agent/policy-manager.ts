import { IncrementalPolicy } from "../calc/policy-incremental.ts";
import { EMPTY_POLICY_IR, type PolicyIR, type PolicyProblem } from "../calc/policy-ir.ts";
import type { Direction } from "../calc/policy-names.ts";
import type { DropLogSource } from "../dataplane/drop-log-source.ts";
import type { NftTable } from "../dataplane/nft-table.ts";
import type { Datastore } from "../datastore/datastore.ts";
import {
  K8S_KINDS,
  type NamespaceResource,
  type NetworkPolicyResource,
  type PodResource,
} from "../model/k8s-resources.ts";
import type { Resource } from "../model/resource.ts";
import { TARTAN_TABLE } from "../render/masquerade-nft.ts";
import { parseDropCounters, parsePolicyState } from "../render/policy-kernel-state.ts";
import { type PolicyState, policyStateOf, renderPolicyDelta } from "../render/policy-nft.ts";
import { type AgentLog, errorFields } from "./agent-log.ts";
import type { AgentTimers } from "./agent-timers.ts";
import { backoffMs } from "./backoff.ts";
import { CoalescingTrigger } from "./coalescing-trigger.ts";
import { type DropLookup, DropReporter } from "./drop-reporter.ts";
import { KindMirror, type KindMirrorOptions } from "./kind-mirror.ts";
import { PodPartsTable } from "./pod-parts-table.ts";
import { PolicyMetrics } from "./policy-metrics.ts";

export interface PolicyManagerDeps {
  ds: Datastore;
  nodeName: string;
  nft: NftTable;
  log: AgentLog;
  /** Whether this kernel can enforce SCTP (conntrack for SCTP): kernelTracksSctp(), wired in main.ts. */
  sctp: boolean;
  /** Mirror hooks from the agent (error reporting, timers); onChange/relevant are the manager's. */
  mirrorOptions: Omit<KindMirrorOptions, "onChange" | "relevant">;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  /** Drops reported one by one (`tartan drops`): the log group's reader and the agent's timers. */
  drops?: { open: () => DropLogSource; timers: AgentTimers };
}

// Labels live in metadata and IPs in status: both decide policy, unlike for Nodes and blocks.
const podOrNsChanged = (a: Resource | undefined, b: Resource | undefined): boolean =>
  JSON.stringify([a?.metadata.labels, a?.spec, a?.status]) !==
  JSON.stringify([b?.metadata.labels, b?.spec, b?.status]);
/** The array itself; anything else is unreadable, as it was for the strip's former `.map` calls. */
function listOf<T>(v: readonly T[], what: string): readonly T[] {
  if (!Array.isArray(v)) throw new TypeError(`${what} is not a list`);
  return v;
}

/** Labels and containers of the pods of every mirror in this process, shared (see stripPod). */
const podParts = new PodPartsTable();

/**
 * The fields of a Pod that policy (and routing) read: namespace, name, labels, node, hostNetwork,
 * phase, IPs, named container ports, plus the version and tartan's own annotations (the pod join
 * API reads them). The rest of a watched Pod (managedFields, env, volumes, conditions, the uid...)
 * is dropped on ingestion: at 10k pods it was most of the agent's memory. Labels, containers and
 * specs are shared between pods that have the same ones (PodPartsTable: frozen, one copy per distinct
 * value; docs/decisions/0024).
 */
export function stripPod(o: Resource): PodResource {
  // Built field by field, without spreads or entries/filter/fromEntries: this runs for each of a
  // full sync's 10k+ pods, where the spread-based version cost ~7 µs a pod. Same fields, same
  // key order, same absent-vs-undefined rules as before (test/unit/strip-pod.test.ts).
  const p = o as PodResource;
  const m = p.metadata;
  const metadata: PodResource["metadata"] = { name: m.name };
  if (m.namespace !== undefined) metadata.namespace = podParts.namespace(m.namespace) as string;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.labels !== undefined) metadata.labels = podParts.labels(m.labels) as Record<string, string>;
  const ann = m.annotations;
  if (ann) {
    let kept: Record<string, string> | undefined;
    for (const k in ann) {
      if (!Object.hasOwn(ann, k) || !k.startsWith("tartan.dev/")) continue;
      kept ??= {};
      kept[k] = ann[k]!;
    }
    if (kept) metadata.annotations = kept;
  }
  const spec = p.spec;
  // Containers and spec are looked up from the datastore object's own fields and copied only when
  // new (PodPartsTable): a copy made only to be dropped for the shared one is garbage between
  // the kept pods, and the JS heap's blocks stay half used after the collection (decision 0028).
  const containers = spec?.containers
    ? podParts.containersOf(listOf(spec.containers, "spec.containers"))
    : undefined;
  const stripped = {
    apiVersion: p.apiVersion,
    kind: p.kind,
    metadata,
    spec: podParts.specOf(spec, containers),
  } as PodResource;
  const status = p.status;
  if (status) {
    const st: NonNullable<PodResource["status"]> = {};
    if (status.phase !== undefined) st.phase = status.phase;
    if (status.podIPs) {
      const ips = listOf(status.podIPs, "status.podIPs");
      const outIps: { ip: string }[] = [];
      for (let i = 0; i < ips.length; i++) outIps.push({ ip: ips[i]!.ip });
      st.podIPs = outIps;
    }
    stripped.status = st;
  }
  return stripped;
}

/** Quiet time after an apply before the agent hands freed memory back to the system. */
const IDLE_RELEASE_MS = 5000;

/**
 * A full collection: hands the garbage of a read-back or of a burst of changes back; and the nft
 * driver's freed C memory (libnftables' caches in glibc's arenas), when it has any.
 */
function releaseMemory(nft: NftTable): void {
  Bun.gc(true);
  nft.releaseMemory?.();
}

const specChanged = (a: Resource | undefined, b: Resource | undefined): boolean =>
  JSON.stringify(a?.spec) !== JSON.stringify(b?.spec);

/**
 * NetworkPolicy enforcement for this node's pods (decision 0009). The agent's manager pattern:
 * - onUpdate() is cheap and synchronous (marks the IR stale, triggers a coalesced apply);
 * - nothing is written before start() (called after the agent's first full sync);
 * - an apply compiles the IR, renders the delta from what the kernel has, and runs it as one nft
 *   transaction; an empty delta runs no nft at all;
 * - what the kernel has is read back (`nft -j list table inet tartan`) on the first apply and on
 *   every resync, so objects removed or changed from outside are restored;
 * - a failed apply is retried with backoff; a policy that cannot be compiled is reported (status,
 *   metrics, log) while the rest is enforced.
 */
export class PolicyManager {
  readonly metrics = new PolicyMetrics();
  readonly pods: KindMirror<PodResource>;
  /**
   * IPs of this node's pods learnt from the plugin (pod join), by "namespace/name", for a
   * datastore where the agent does not write Pod status (Kubernetes mode, decision 0015): a Pod
   * from the datastore without podIPs gets them from here until kubelet has written its own.
   */
  readonly localPodIps = new Map<string, { containerId: string; ips: string[] }>();
  readonly namespaces: KindMirror<NamespaceResource>;
  readonly policies: KindMirror<NetworkPolicyResource>;
  private ir: PolicyIR = EMPTY_POLICY_IR;
  /** The compiler, fed with the mirrors' changed keys before each compile. */
  private readonly compiler: IncrementalPolicy;
  private readonly dirty = {
    pods: new Set<string>(),
    namespaces: new Set<string>(),
    policies: new Set<string>(),
  };
  private stale = true;
  /** What the kernel holds after our last apply; undefined: read it from the kernel first. */
  private applied: PolicyState | undefined;
  private readonly trigger: CoalescingTrigger;
  private started = false;
  private stopped = false;
  /** Bumped by every update; appliedSeq is the seq whose state is in the kernel. */
  private seq = 0;
  private appliedSeq = -1;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private failures = 0;
  private retryTimer: unknown;
  private reportedProblems = "[]";
  /** Bumped by every apply: the idle memory release runs only if no apply came after its own. */
  private applyGeneration = 0;
  private readonly setT: (fn: () => void, ms: number) => unknown;
  /** Drops with names (undefined: not wired); started with the manager, after the first sync. */
  readonly drops: DropReporter | undefined;
  private podIndex:
    | { seq: number; byIp: Map<string, { namespace: string; name: string; node?: string }> }
    | undefined;
  private isolationIndex = new WeakMap<
    PolicyIR,
    Map<string, { pod: string; direction: Direction; policies: string[]; counter: string }>
  >();

  constructor(private readonly d: PolicyManagerDeps) {
    this.setT = d.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
    this.compiler = new IncrementalPolicy(d.nodeName, d.sctp);
    this.drops = d.drops
      ? new DropReporter({
          nodeName: d.nodeName,
          open: d.drops.open,
          lookup: this.dropLookup(),
          readCounters: async () =>
            new Map(parseDropCounters(await this.listKernel()).map((c) => [c.name, c.packets] as const)),
          timers: d.drops.timers,
          log: d.log,
        })
      : undefined;
    const opts = (
      relevant: KindMirrorOptions["relevant"],
      dirty: Set<string>,
      strip?: KindMirrorOptions["strip"],
    ): KindMirrorOptions => ({
      ...d.mirrorOptions,
      onChange: () => this.onUpdate(),
      onItem: (key) => dirty.add(key),
      relevant,
      ...(strip ? { strip } : {}),
    });
    this.pods = new KindMirror<PodResource>(
      d.ds,
      K8S_KINDS.pod,
      opts(podOrNsChanged, this.dirty.pods, (o) => this.withLocalIps(stripPod(o))),
    );
    this.namespaces = new KindMirror<NamespaceResource>(
      d.ds,
      K8S_KINDS.namespace,
      opts(podOrNsChanged, this.dirty.namespaces),
    );
    this.policies = new KindMirror<NetworkPolicyResource>(
      d.ds,
      K8S_KINDS.networkPolicy,
      opts(specChanged, this.dirty.policies),
    );
    this.trigger = new CoalescingTrigger(
      () => this.applyNow(),
      (e) => this.failed(e),
    );
  }

  /** The Pod with the IPs the plugin reported, when the datastore has none for it yet. */
  private withLocalIps(p: PodResource): PodResource {
    if (this.localPodIps.size === 0 || p.status?.podIPs?.length) return p;
    const local = this.localPodIps.get(`${p.metadata.namespace}/${p.metadata.name}`);
    if (!local || p.spec?.nodeName !== this.d.nodeName) return p;
    return { ...p, status: { ...p.status, podIPs: local.ips.map((ip) => ({ ip })) } };
  }

  get mirrors(): KindMirror[] {
    return [this.pods, this.namespaces, this.policies] as KindMirror[];
  }

  get synced(): boolean {
    return this.mirrors.every((m) => m.synced);
  }

  /** Cheap and synchronous: the next apply recomputes. */
  onUpdate(): void {
    this.seq++;
    this.stale = true;
    if (this.started) this.trigger.trigger();
  }

  /** After the agent's first full sync: from now on applies run (and drops are read). */
  start(): void {
    this.started = true;
    this.trigger.trigger();
    this.drops?.start();
  }

  /**
   * Addresses to pods (every Pod of the mirror, rebuilt after a change when a drop asks) and
   * local pods' isolation by pod and by drop counter (per IR).
   */
  private dropLookup(): DropLookup {
    const byIp = () => {
      if (this.podIndex?.seq !== this.seq) {
        const m = new Map<string, { namespace: string; name: string; node?: string }>();
        for (const p of this.pods.items.values()) {
          const node = p.spec?.nodeName;
          for (const { ip } of p.status?.podIPs ?? [])
            m.set(ip, {
              namespace: p.metadata.namespace ?? "default",
              name: p.metadata.name,
              ...(node ? { node } : {}),
            });
        }
        this.podIndex = { seq: this.seq, byIp: m };
      }
      return this.podIndex.byIp;
    };
    const isolation = () => {
      const ir = this.current();
      let m = this.isolationIndex.get(ir);
      if (!m) {
        m = new Map();
        for (const p of ir.pods)
          for (const direction of ["ingress", "egress"] as const) {
            const v = p[direction];
            if (!v) continue;
            const e = {
              pod: `${p.namespace}/${p.name}`,
              direction,
              policies: v.policies,
              counter: v.counter,
            };
            m.set(`${direction}|${e.pod}`, e);
            m.set(v.counter, e);
          }
        this.isolationIndex.set(ir, m);
      }
      return m;
    };
    return {
      podByIp: (ip) => byIp().get(ip),
      isolation: (pod, dir) => isolation().get(`${dir}|${pod}`),
      counterOwner: (counter) => isolation().get(counter),
    };
  }

  /** Re-reads the kernel and repairs what differs from the IR. */
  resync(): void {
    if (!this.started) return;
    this.applied = undefined;
    this.trigger.trigger();
  }

  /** The IR of the current mirrors (compiled on demand; pure and synchronous). */
  current(): PolicyIR {
    if (this.stale) {
      // Only what changed since the last compile is fed in (the mirrors report changed keys).
      for (const k of this.dirty.namespaces) this.compiler.setNamespace(k, this.namespaces.items.get(k));
      for (const k of this.dirty.pods) this.compiler.setPod(k, this.pods.items.get(k));
      for (const k of this.dirty.policies) this.compiler.setPolicy(k, this.policies.items.get(k));
      this.dirty.namespaces.clear();
      this.dirty.pods.clear();
      this.dirty.policies.clear();
      this.ir = this.compiler.compile();
      this.stale = false;
      this.metrics.observe(this.ir);
      this.logProblems(this.ir.problems);
    }
    return this.ir;
  }

  /**
   * Resolves once everything known now is in the kernel, or with false after timeoutMs (the
   * caller answers with an error; the apply goes on retrying).
   */
  waitApplied(timeoutMs: number): Promise<boolean> {
    const seq = this.seq;
    if (this.appliedSeq >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = { seq, resolve: () => resolve(true) };
      this.waiters.push(w);
      this.setT(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(false);
      }, timeoutMs);
    });
  }

  /** `nft -j list table inet tartan` (drop counters are read from it). */
  listKernel(): Promise<unknown> {
    return this.d.nft.listJson!(null, "inet", TARTAN_TABLE);
  }

  idle(): Promise<void> {
    return this.trigger.idle();
  }

  stop(): void {
    this.stopped = true;
    this.drops?.stop();
    for (const m of this.mirrors) m.stop();
    this.trigger.stop();
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer as ReturnType<typeof setTimeout>);
  }

  private async applyNow(): Promise<void> {
    if (!this.started || this.stopped) return;
    const seq = this.seq;
    const t0 = performance.now();
    const fromKernel = this.applied === undefined;
    // The read-back (an nft process) runs while the compile holds this thread: on a cold start
    // both are on the path to the first rules in the kernel. Settled into a value at once, so a
    // compile that throws leaves no unhandled rejection behind.
    const reading = fromKernel
      ? this.d.nft.listJson!(null, "inet", TARTAN_TABLE).then(
          (v) => ({ v }),
          (e: unknown) => ({ e }),
        )
      : undefined;
    const ir = this.current();
    const t1 = performance.now();
    if (reading) {
      const r = await reading;
      if ("e" in r) throw r.e;
      this.applied = parsePolicyState(r.v);
    }
    const t2 = performance.now();
    const delta = renderPolicyDelta(this.applied!, ir);
    const t3 = performance.now();
    if (delta.script !== "") {
      try {
        // Element-only deltas (a pod's label or IPs) skip the nft process (decision 0020).
        if (delta.elements && this.d.nft.applyElements) {
          this.metrics.elementBatches++;
          await this.d.nft.applyElements(null, TARTAN_TABLE, delta.elements);
        } else {
          this.metrics.nftCalls++;
          // The agent's first load (a cold start writes the whole table): once per start, right
          // after a compile that held the thread longer; in process it saves the nft process's
          // start, the pipe and the wait (~100 ms at 10k/1k), so it may block (decision 0022).
          await this.d.nft.apply(null, delta.script, { mayBlock: this.metrics.applies === 0 });
        }
      } catch (e) {
        this.applied = undefined; // unknown now: read the kernel again next time
        throw e;
      }
      this.metrics.deltaChanges += delta.changes;
      if (fromKernel && this.metrics.applies > 0) this.metrics.driftRepairs++;
    }
    // Every change, and the first apply even when the kernel already held it all (a restart):
    // where the apply's time went (bench:policy reads these lines, and times a start by the first).
    if (delta.script !== "" || this.metrics.applies === 0) {
      const ms = (a: number, b: number) => Math.round((b - a) * 10) / 10;
      this.d.log("info", "policy applied", {
        changes: delta.changes,
        isolatedPods: ir.pods.length,
        ...(fromKernel ? { fromKernel: true } : {}),
        ...(delta.elements && this.d.nft.applyElements ? { via: "netlink" } : {}),
        compileMs: ms(t0, t1),
        ...(fromKernel ? { readKernelMs: ms(t1, t2) } : {}),
        renderMs: ms(t2, t3),
        writeMs: ms(t3, performance.now()),
      });
    }
    this.applied = policyStateOf(ir);
    const s = (performance.now() - t0) / 1000;
    this.metrics.applies++;
    this.metrics.applySecondsSum += s;
    this.metrics.lastApplySeconds = s;
    this.metrics.lastDeltaChanges = delta.changes;
    this.metrics.lastApplyAt = Date.now();
    this.metrics.lastError = undefined;
    this.failures = 0;
    this.appliedSeq = seq;
    const ready = this.waiters.filter((w) => w.seq <= seq);
    this.waiters = this.waiters.filter((w) => w.seq > seq);
    for (const w of ready) w.resolve();
    // Reading the kernel back (first apply, resyncs) parses megabytes of `nft -j` JSON at cluster
    // scale; a full collection right after, off the waiters' path, hands that memory back instead
    // of letting the heap keep its high-water mark (bench:policy measures the agent's RSS). After
    // a burst of changes the same happens once things have been quiet for IDLE_RELEASE_MS (a
    // collection takes tens of ms at 10k pods: never between two changes close together).
    if (fromKernel) this.setT(() => releaseMemory(this.d.nft), 0);
    const gen = ++this.applyGeneration;
    const t = this.setT(() => {
      if (gen === this.applyGeneration && !this.stopped) releaseMemory(this.d.nft);
    }, IDLE_RELEASE_MS);
    (t as { unref?: () => void } | undefined)?.unref?.();
  }

  private failed(e: unknown): void {
    this.metrics.applyErrors++;
    this.metrics.lastError = errorFields(e).error;
    const ms = backoffMs(this.failures++, 200, 10_000);
    this.d.log("error", "policy apply failed; retrying", { ...errorFields(e), retryInMs: ms });
    if (this.stopped || this.retryTimer !== undefined) return;
    this.retryTimer = this.setT(() => {
      this.retryTimer = undefined;
      this.trigger.trigger();
    }, ms);
  }

  private logProblems(problems: PolicyProblem[]): void {
    const text = JSON.stringify(problems);
    if (text === this.reportedProblems) return;
    this.reportedProblems = text;
    for (const p of problems) this.d.log("warn", "policy not enforced as written", { ...p });
  }
}
