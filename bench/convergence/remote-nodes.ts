// Runs inside the lab's fabric namespace (where etcd listens), started by bench/convergence.ts:
// registers N remote nodes (Node + IPAMBlock, underlay 198.18.2.0+ inside 198.18.0.0/15, a VTEP
// MAC each) straight into the lab's etcd through the datastore code, and times how long the agent
// of a real node takes until its kernel holds all N block routes (+ neighbour and FDB entries for
// vxlan), polling that node's namespace with rtnetlink dumps (routes, neighbours, FDB). Then
// deletes them and times the removal the same way. No traffic is sent to the fake addresses: the
// neighbours are permanent, and nothing routes to the fake blocks.
//
//   bun remote-nodes.ts --endpoint URL [--etcd-ca F --etcd-cert F --etcd-key F] --node-netns NS --agent-log FILE --counts 10,100,1000 --trials T
//   bun remote-nodes.ts --datastore kubernetes --kubeconfig FILE --mode one-by-one …   (the lab's
//     stand-in API server: every Node and IPAMBlock through the API with the Kubernetes adapter;
//     a Node becomes a core Node with tartan's annotations)
// Prints one JSON document on stdout; progress on stderr.
import { readFileSync } from "node:fs";
import type { Etcd3 } from "etcd3";
import { diffKernelState } from "../../src/agent/kernel-diff.ts";
import { calcNodeRouting } from "../../src/calc/node-routing.ts";
import { NetlinkDataplane } from "../../src/dataplane/linux/netlink-dataplane.ts";
import type { Datastore } from "../../src/datastore/datastore.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import { prepareWrite } from "../../src/datastore/prepare-write.ts";
import { storeKey } from "../../src/datastore/store-key.ts";
import { run } from "../../src/exec/run.ts";
import {
  blockName,
  type IPAMBlockResource,
  KINDS,
  type NodeResource,
} from "../../src/model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../../src/model/resource.ts";
import { labEtcd3, labEtcdConfig } from "../lab/lab-etcd.ts";
import { KernelEvents, type Wanted } from "./kernel-events.ts";

const argv = process.argv.slice(2);
const opt = (n: string, d = ""): string => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1]! : d;
};
const nodeNs = opt("--node-netns");
const agentLog = opt("--agent-log");
const counts = opt("--counts", "10,100,1000").split(",").map(Number);
const trials = Number(opt("--trials", "5"));
const concurrency = Number(opt("--concurrency", "64"));
const vxlan = opt("--backend", "vxlan") !== "host-gw";
/**
 * burst: all N Nodes + IPAMBlocks in etcd transactions of up to 128 puts (etcd's default
 * --max-txn-ops), sent at once: the writes take tens of ms, so what is timed is the agent.
 * one-by-one: one Datastore.create per object (--concurrency in flight), as nodes registering
 * one after the other would write them: the timing then includes etcd's write rate.
 */
const mode = opt("--mode", "burst") as "burst" | "one-by-one";
const kernelPoll = opt("--kernel-poll", "events") as "events" | "dump";
const kubernetes = opt("--datastore", "etcd") === "kubernetes";
if (kubernetes && mode === "burst")
  throw new Error("--datastore kubernetes writes through the API: --mode one-by-one");
const TXN_OPS = 128;
const DEVICE = "tartan.vxlan";
const POOL_CIDR_PREFIX = "10.244.";
const log = (m: string) => void process.stderr.write(`remote-nodes: ${m}\n`);
const now = () => performance.timeOrigin + performance.now();

interface Fake {
  node: NodeResource;
  block: IPAMBlockResource;
}

function fakes(n: number, freeBlocks: string[], pool: string): Fake[] {
  const out: Fake[] = [];
  for (let i = 0; i < n; i++) {
    const third = 2 + Math.floor(i / 200);
    const addr = `198.18.${third}.${10 + (i % 200)}`;
    const name = `bench-remote-${String(i).padStart(4, "0")}`;
    const mac = `02:bb:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
    const cidr = freeBlocks[i]!;
    out.push({
      node: {
        apiVersion: TARTAN_API_VERSION,
        kind: KINDS.node,
        metadata: { name },
        spec: { underlayAddress: addr, underlaySubnet: `198.18.${third}.0/24`, vtepMac: mac },
        status: { ready: true },
      },
      block: {
        apiVersion: TARTAN_API_VERSION,
        kind: KINDS.ipamBlock,
        metadata: { name: blockName(cidr) },
        spec: { cidr, pool, node: name },
      },
    });
  }
  return out;
}

async function runPool<T>(items: T[], n: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The Datastore's own layout (src/datastore/etcd): `/tartan/<kind>/_/<name>`, JSON without resourceVersion. */
const etcdKey = (kind: string, name: string) => `/tartan/${storeKey(kind, name)}`;

async function burstCreate(etcd: Etcd3, set: Fake[]): Promise<void> {
  const objs = set.flatMap((f) => [f.node, f.block]).map((o) => prepareWrite(o, "create"));
  const txns: Promise<unknown>[] = [];
  for (let i = 0; i < objs.length; i += TXN_OPS) {
    const chunk = objs.slice(i, i + TXN_OPS);
    txns.push(
      etcd.kv.txn({
        compare: [],
        success: chunk.map((o) => ({
          request_put: {
            key: Buffer.from(etcdKey(o.kind, o.metadata.name)),
            value: Buffer.from(JSON.stringify(o)),
          },
        })),
      }),
    );
  }
  await Promise.all(txns);
}

async function burstDelete(etcd: Etcd3, set: Fake[]): Promise<void> {
  const keys = set.flatMap((f) => [
    etcdKey(KINDS.ipamBlock, f.block.metadata.name),
    etcdKey(KINDS.node, f.node.metadata.name),
  ]);
  const txns: Promise<unknown>[] = [];
  for (let i = 0; i < keys.length; i += TXN_OPS) {
    txns.push(
      etcd.kv.txn({
        compare: [],
        success: keys.slice(i, i + TXN_OPS).map((k) => ({ request_delete_range: { key: Buffer.from(k) } })),
      }),
    );
  }
  await Promise.all(txns);
}

interface Counts {
  routes: number;
  neigh: number;
  fdb: number;
}

/**
 * How many of the fakes' routes / neighbours / FDB entries the node's kernel holds now: rtnetlink
 * dumps in this process (the agent's own read code, contract-tested against iproute2). Polling with
 * `ip -j route`, `ip -j neigh` and `bridge -j fdb` spawned three processes every 5 ms, each
 * printing 1000+ entries as JSON: CPU taken from the agents being measured on a 2-core machine.
 */
const poller = new NetlinkDataplane();
async function kernelKeys(set: Wanted): Promise<{ routes: string[]; neigh: string[]; fdb: string[] }> {
  const ns = `/run/netns/${nodeNs}`;
  const [r, ne, fd] = await Promise.all([
    poller.routes(ns, 4),
    vxlan ? poller.neighbours(ns) : [],
    vxlan ? poller.fdb(ns, DEVICE).catch(() => []) : [],
  ]);
  return {
    routes: r.filter((x) => x.proto === 201 && set.blocks.has(x.dst)).map((x) => x.dst),
    neigh: ne.filter((x) => x.dev === DEVICE && set.addrs.has(x.ip)).map((x) => x.ip),
    fdb: fd.filter((x) => set.macs.has(x.mac)).map((x) => x.mac),
  };
}

async function kernelCounts(set: Wanted): Promise<Counts> {
  const k = await kernelKeys(set);
  return { routes: k.routes.length, neigh: k.neigh.length, fdb: k.fdb.length };
}

/**
 * Notifications of the node's kernel, seeded with a dump (--kernel-poll events, the default), or
 * undefined for dumps only (--kernel-poll dump, the way before the sixth session).
 */
async function kernelEvents(set: Wanted): Promise<KernelEvents | undefined> {
  if (kernelPoll !== "events") return undefined;
  const ev = new KernelEvents(`/run/netns/${nodeNs}`, set);
  const k = await kernelKeys(set);
  ev.seed(k.routes, k.neigh, k.fdb);
  return ev;
}

async function waitKernel(
  set: Wanted,
  want: number,
  timeoutMs: number,
  events?: KernelEvents,
): Promise<{ at: number; polls: number; last: Counts }> {
  const deadline = now() + timeoutMs;
  let polls = 0;
  let last: Counts = { routes: -1, neigh: -1, fdb: -1 };
  const complete = (c: Counts) => c.routes === want && (!vxlan || (c.neigh === want && c.fdb === want));
  try {
    while (events && !events.lost && now() < deadline) {
      events.drain();
      last = { routes: events.routes.size, neigh: events.neigh.size, fdb: events.fdb.size };
      if (!events.lost && complete(last)) {
        const at = now();
        // One dump confirms what the notifications said; on a mismatch, dumps from here on.
        last = await kernelCounts(set);
        if (complete(last)) return { at, polls: polls + 1, last };
        break;
      }
      await Bun.sleep(2);
    }
  } finally {
    events?.close();
  }
  while (now() < deadline) {
    polls++;
    const p0 = now();
    last = await kernelCounts(set);
    if (complete(last)) return { at: now(), polls, last };
    // At most about half of one core for the poller (a dump of 1000 entries takes ms to parse).
    await Bun.sleep(Math.max(5, now() - p0));
  }
  throw new Error(`kernel did not reach ${want} entries in ${timeoutMs} ms (last ${JSON.stringify(last)})`);
}

interface AgentMetrics {
  applies: number;
  applySeconds: number;
  kernelChanges: number;
}

async function agentMetrics(): Promise<AgentMetrics> {
  const tartan = process.env.TARTAN_BIN!;
  const r = await run([
    "ip",
    "netns",
    "exec",
    nodeNs,
    tartan,
    "lab",
    "probe",
    "http",
    "http://127.0.0.1:9100/metrics",
  ]);
  const v = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(r.stdout)?.[1] ?? Number.NaN);
  return {
    applies: v("tartan_agent_applies_total"),
    applySeconds: v("tartan_agent_apply_duration_seconds_sum"),
    kernelChanges: v("tartan_agent_kernel_changes_total"),
  };
}

/** "kernel updated" lines of the agent log between two instants: when each apply wrote, and how much. */
function appliesBetween(from: number, to: number): { at: number; changes: number; steps?: string }[] {
  const out: { at: number; changes: number; steps?: string }[] = [];
  for (const line of readFileSync(agentLog, "utf8").split("\n")) {
    if (!line.includes('"kernel updated"')) continue;
    try {
      const j = JSON.parse(line) as { time: string; changes: number; ms?: Record<string, number> };
      const at = Date.parse(j.time);
      if (at >= from - 5 && at <= to + 5)
        out.push({ at, changes: j.changes, ...(j.ms ? { steps: stepsText(j.ms) } : {}) });
    } catch {}
  }
  return out;
}

/** The agent's own step times of one apply (its log's `ms`), short: c(alc) r(ead) d(iff) w(rite). */
const stepsText = (ms: Record<string, number>) =>
  [
    ["c", ms.calcMs],
    ["r", ms.readMs],
    ["d", ms.diffMs],
    ["w", ms.writeMs],
  ]
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}${Math.round(v as number)}`)
    .join(" ");

interface Trial {
  n: number;
  trial: number;
  /** ms from the first write until the kernel had everything. */
  total: number;
  /** ms the writes themselves took (first write start to last write acknowledged). */
  writes: number;
  /** ms from the last write acknowledged until the kernel had everything. */
  afterWrites: number;
  /** ms from the first delete until the kernel had none of it. */
  removal: number;
  /** ms the deletes themselves took (first sent to last acknowledged). */
  removalWrites: number;
  /** ms until the bench's own watch had seen every create (-1: not within 10 s). */
  watched: number;
  /** ms until the bench's own watch had seen every delete (-1: not within 10 s). */
  removalWatched: number;
  polls: number;
  applies: number;
  applySeconds: number;
  kernelChanges: number;
  /** The agent's writes as its log shows them: ms after the first write, changes written. */
  writesInLog: { ms: number; changes: number; steps?: string }[];
  /** Likewise during the removal: ms after the first delete. */
  removalInLog: { ms: number; changes: number; steps?: string }[];
}

/** Watches Nodes and IPAMBlocks from now; done() resolves with when the last of `set`'s events of `type` arrived. */
async function watchEvents(ds: Datastore, set: Fake[], type: "ADDED" | "DELETED") {
  const want = new Set(set.flatMap((f) => [`n/${f.node.metadata.name}`, `b/${f.block.metadata.name}`]));
  let last: number | undefined;
  const handles = await Promise.all(
    [
      [KINDS.node, "n"],
      [KINDS.ipamBlock, "b"],
    ].map(async ([kind, tag]) => {
      const { revision } = await ds.list(kind!);
      // As the agent's mirrors watch (kind-mirror.ts).
      return ds.watch(
        kind!,
        revision,
        (ev) => {
          if (ev.type !== type || !want.delete(`${tag}/${ev.object.metadata.name}`)) return;
          if (want.size === 0) last = now();
        },
        undefined,
        { deletedIdentityOnly: true },
      );
    }),
  );
  return {
    done: async (timeoutMs: number) => {
      const end = now() + timeoutMs;
      while (want.size > 0 && now() < end) await Bun.sleep(5);
      for (const h of handles) h.close();
      return last;
    },
  };
}

async function profile(ds: Datastore, n: number): Promise<Record<string, number>> {
  // The agent's steps, one by one, on the state it just programmed (N remote nodes).
  const dp = new NetlinkDataplane(); // the agent's own driver
  const t = async <T>(fn: () => Promise<T> | T): Promise<[T, number]> => {
    const t0 = performance.now();
    const r = await fn();
    return [r, performance.now() - t0];
  };
  const [nodes, listNodesMs] = await t(() => ds.list(KINDS.node));
  const [blocks, listBlocksMs] = await t(() => ds.list(KINDS.ipamBlock));
  const local = nodeNs.replace(/^tl-[a-z0-9]+-/, "");
  const [calc, calcMs] = await t(() =>
    calcNodeRouting({
      localNode: local,
      nodes: nodes.items as NodeResource[],
      blocks: blocks.items as IPAMBlockResource[],
      backend: vxlan ? "vxlan" : "host-gw",
      underlay: { interface: "eth0", mtu: 1500 },
      vxlan: { vni: 4096, port: 4789 },
    }),
  );
  const ns = `/run/netns/${nodeNs}`;
  const [link, linkMs] = await t(() => dp.link(ns, DEVICE));
  const [v4, routes4Ms] = await t(() => dp.routes(ns, 4));
  const [v6, routes6Ms] = await t(() => dp.routes(ns, 6));
  const [neighbours, neighMs] = await t(() => dp.neighbours(ns));
  const [fdb, fdbMs] = await t(() => dp.fdb(ns, DEVICE));
  const actual = { routes: [...v4, ...v6], neighbours, fdb, ...(link ? { vxlan: link } : {}) };
  const [diff, diffMs] = await t(() => diffKernelState(calc.state, actual));
  return {
    n,
    listNodesMs,
    listBlocksMs,
    calcMs,
    readLinkMs: linkMs,
    readRoutes4Ms: routes4Ms,
    readRoutes6Ms: routes6Ms,
    readNeighMs: neighMs,
    readFdbMs: fdbMs,
    diffMs,
    diffOps: diff.ops.length,
    desiredRoutes: calc.state.routes.length,
  };
}

async function main(): Promise<void> {
  const config = kubernetes ? undefined : labEtcdConfig(argv);
  const ds = await openDatastore(config ?? { type: "kubernetes", kubeconfig: opt("--kubeconfig") });
  // Raw etcd only for burst writes (etcd mode); the Kubernetes mode goes through the API only.
  const etcd = config ? labEtcd3(config) : undefined;
  try {
    const existing = (await ds.list(KINDS.ipamBlock)).items as IPAMBlockResource[];
    const pool = existing[0]?.spec.pool ?? "pool-10-244-0-0-16";
    const used = new Set(existing.map((b) => b.spec.cidr));
    const free: string[] = [];
    for (let k = 0; k < 1024; k++) {
      const cidr = `${POOL_CIDR_PREFIX}${k >> 2}.${(k & 3) * 64}/26`;
      if (!used.has(cidr)) free.push(cidr);
    }
    const maxN = Math.max(...counts);
    if (free.length < maxN)
      throw new Error(`only ${free.length} free /26 blocks in the lab pool, need ${maxN}`);
    const all = fakes(maxN, free.slice(-maxN), pool);
    const results: Trial[] = [];
    const profiles: Record<string, number>[] = [];
    for (const n of counts) {
      const set = all.slice(0, n);
      const keys = {
        blocks: new Set(set.map((f) => f.block.spec.cidr)),
        addrs: new Set(set.map((f) => f.node.spec.underlayAddress)),
        macs: new Set(set.map((f) => f.node.spec.vtepMac!)),
      };
      for (let trial = 0; trial < trials; trial++) {
        const m0 = await agentMetrics();
        const seenAdds = await watchEvents(ds, set, "ADDED");
        const addEvents = await kernelEvents(keys);
        const t0 = now();
        // Per remote node: its Node, then its block (an agent writes them in this order too).
        if (mode === "burst") await burstCreate(etcd!, set);
        else
          await runPool(set, concurrency, async (f) => {
            await ds.create(f.node);
            await ds.create(f.block);
          });
        const tw = now();
        const done = await waitKernel(keys, n, 60_000, addEvents);
        const addsWatchedAt = await seenAdds.done(10_000);
        // Let the coalesced applies settle before reading the counters.
        await Bun.sleep(300);
        const m1 = await agentMetrics();
        const writesInLog = appliesBetween(t0, done.at).map((a) => ({ ...a, ms: Math.round(a.at - t0) }));
        if (mode === "burst" && n === maxN && trial === 0) profiles.push(await profile(ds, n));
        // The bench's own watch (the agent's datastore code, another client of the same etcd):
        // when the last delete event reaches a watcher that does nothing else, to tell the
        // watch delivery's share of the removal from the agent's.
        const seen = await watchEvents(ds, set, "DELETED");
        const delEvents = await kernelEvents(keys);
        const r0 = now();
        if (mode === "burst") await burstDelete(etcd!, set);
        else
          await runPool(set, concurrency, async (f) => {
            await ds.delete(KINDS.ipamBlock, f.block.metadata.name);
            await ds.delete(KINDS.node, f.node.metadata.name);
          });
        const rw = now();
        const gone = await waitKernel(keys, 0, 60_000, delEvents);
        await Bun.sleep(100); // the log line of the last apply
        const watchedAt = await seen.done(10_000);
        const removalInLog = appliesBetween(r0, gone.at).map((a) => ({ ...a, ms: Math.round(a.at - r0) }));
        const t: Trial = {
          n,
          trial,
          total: done.at - t0,
          writes: tw - t0,
          afterWrites: done.at - tw,
          removal: gone.at - r0,
          removalWrites: rw - r0,
          removalWatched: watchedAt === undefined ? -1 : watchedAt - r0,
          watched: addsWatchedAt === undefined ? -1 : addsWatchedAt - t0,
          polls: done.polls,
          applies: m1.applies - m0.applies,
          applySeconds: m1.applySeconds - m0.applySeconds,
          kernelChanges: m1.kernelChanges - m0.kernelChanges,
          writesInLog,
          removalInLog,
        };
        results.push(t);
        log(
          `${mode} N=${n} trial ${trial + 1}/${trials}: ${t.total.toFixed(0)} ms (writes ${t.writes.toFixed(0)}, then ${t.afterWrites.toFixed(0)}; all seen by a bare watch ${t.watched.toFixed(0)}), ` +
            `${t.applies} applies (${(t.applySeconds * 1000).toFixed(0)} ms in apply), removal ${t.removal.toFixed(0)} ms (deletes acknowledged ${t.removalWrites.toFixed(0)}, all seen by a bare watch ${t.removalWatched.toFixed(0)})`,
        );
        await Bun.sleep(500);
      }
    }
    console.log(JSON.stringify({ results, profiles }));
  } finally {
    etcd?.close();
    await ds.close();
  }
}

main().catch((e) => {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
