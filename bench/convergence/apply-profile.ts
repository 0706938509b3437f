// Where one routing apply's time goes at N remote nodes, in-process, in the private network
// namespace this process runs in (root; run it under `ip netns exec tt-t-…`, never in the host's):
// the agent's own steps (calc, the kernel read-back dumps, the diff, the netlink writes) for a
// burst of N nodes, a no-op apply, one node added to N, and the removal of all N, each with a
// full read-back (rows); the same through the agent's path (calc's cache, diffs against what was
// written: agentRows); plus the ingestion cost of 2N watch objects (JSON parse + validation).
//
//   ip netns add tt-t-prof && ip netns exec tt-t-prof bun bench/convergence/apply-profile.ts --n 1000 --rounds 3; ip netns del tt-t-prof
//
// The namespace gets a bridge as underlay `ul0` (198.18.0.2/15); everything goes with the namespace.
import { diffKernelState } from "../../src/agent/kernel-diff.ts";
import { KernelReconciler } from "../../src/agent/kernel-reconciler.ts";
import { calcNodeRouting, NodeRoutingCache } from "../../src/calc/node-routing.ts";
import { NetlinkDataplane } from "../../src/dataplane/linux/netlink-dataplane.ts";
import { run } from "../../src/exec/run.ts";
import {
  blockName,
  type IPAMBlockResource,
  KINDS,
  type NodeResource,
} from "../../src/model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../../src/model/resource.ts";
import { storedObjectErrors } from "../../src/model/validate-stored-object.ts";

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1]! : d;
};
const N = Number(opt("--n", "1000"));
const ROUNDS = Number(opt("--rounds", "3"));
const DEVICE = "tartan.vxlan";

function node(i: number): NodeResource {
  const third = 2 + Math.floor(i / 200);
  return {
    apiVersion: TARTAN_API_VERSION,
    kind: KINDS.node,
    metadata: { name: `r-${String(i).padStart(4, "0")}` },
    spec: {
      underlayAddress: `198.18.${third}.${10 + (i % 200)}`,
      underlaySubnet: `198.18.${third}.0/24`,
      vtepMac: `02:bb:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`,
    },
  };
}
function block(i: number, owner: string): IPAMBlockResource {
  const cidr = `10.244.${i >> 2}.${(i & 3) * 64}/26`;
  return {
    apiVersion: TARTAN_API_VERSION,
    kind: KINDS.ipamBlock,
    metadata: { name: blockName(cidr) },
    spec: { cidr, pool: "p", node: owner },
  };
}

const LOCAL = node(9999);
LOCAL.metadata.name = "local";
LOCAL.spec = { underlayAddress: "198.18.0.2", underlaySubnet: "198.18.0.0/15", vtepMac: "02:aa:00:00:00:02" };

// Built once, as the agent's mirrors keep them: an unchanged object is the same object.
const NODES = Array.from({ length: 1100 }, (_, i) => node(i));
const BLOCKS = NODES.map((n, i) => block(i, n.metadata.name));
const LOCAL_BLOCK = block(1023, "local");

const calc = (n: number, extra = 0, cache?: NodeRoutingCache) => {
  const nodes = [LOCAL, ...NODES.slice(0, n + extra)];
  const blocks = [LOCAL_BLOCK, ...BLOCKS.slice(0, n + extra)];
  return calcNodeRouting({
    ...(cache ? { cache } : {}),
    localNode: "local",
    nodes,
    blocks,
    backend: "vxlan",
    underlay: { interface: "ul0", mtu: 1500 },
  });
};

const ms = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

async function phases(dp: NetlinkDataplane, n: number, extra: number) {
  let t = performance.now();
  const want = calc(n, extra);
  const calcMs = ms(t);
  t = performance.now();
  const [link, v4, v6, neighbours, fdb] = await Promise.all([
    dp.link(null, DEVICE),
    dp.routes(null, 4),
    dp.routes(null, 6),
    dp.neighbours(null),
    dp.fdb(null, DEVICE),
  ]);
  const readMs = ms(t);
  t = performance.now();
  const diff = diffKernelState(want.state, {
    routes: [...v4, ...v6],
    neighbours,
    fdb,
    ...(link ? { vxlan: link } : {}),
  });
  const diffMs = ms(t);
  t = performance.now();
  if (diff.ops.length) await dp.apply(null, diff.ops);
  const writeMs = ms(t);
  return { calcMs, readMs, diffMs, writeMs, ops: diff.ops.length };
}

/** Each dump alone (they run concurrently in the reconciler, but each blocks the thread). */
async function reads(dp: NetlinkDataplane) {
  const out: Record<string, number> = {};
  for (const [k, f] of [
    ["link", () => dp.link(null, DEVICE)],
    ["routes4", () => dp.routes(null, 4)],
    ["routes6", () => dp.routes(null, 6)],
    ["neigh", () => dp.neighbours(null)],
    ["fdb", () => dp.fdb(null, DEVICE)],
  ] as const) {
    const t = performance.now();
    await f();
    out[k] = ms(t);
  }
  return out;
}

/**
 * The agent's path since issue 11 point 4: calc with its cache, the reconciler diffing against
 * what it last wrote (no read-back), as CalcKernelPort drives them.
 */
async function agentPath(rec: KernelReconciler, cache: NodeRoutingCache, n: number, extra: number) {
  const t = performance.now();
  const want = calc(n, extra, cache);
  const calcMs = ms(t);
  rec.setDesired(want.state);
  const stats = await rec.apply();
  return { calcMs, ...rec.lastTimings, changes: stats.added + stats.changed + stats.removed };
}

function ingestion(n: number) {
  const texts = Array.from({ length: n }, (_, i) => [
    JSON.stringify(node(i)),
    JSON.stringify(block(i, node(i).metadata.name)),
  ]).flat();
  const t = performance.now();
  for (const s of texts) {
    const o = JSON.parse(s);
    storedObjectErrors(o);
    JSON.stringify(o.spec); // the agent's `relevant` check
  }
  return ms(t);
}

async function main() {
  await run(["ip", "link", "add", "ul0", "type", "bridge"]);
  await run(["ip", "addr", "add", "198.18.0.2/15", "dev", "ul0"]);
  await run(["ip", "link", "set", "ul0", "up"]);
  const dp = new NetlinkDataplane();
  const rec = new KernelReconciler(dp);
  rec.setDesired(calc(0).state);
  await rec.apply(); // the device and the local blackhole
  const rows: Record<string, unknown>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const burst = await phases(dp, N, 0);
    const noop = await phases(dp, N, 0);
    const readsAlone = await reads(dp);
    const oneMore = await phases(dp, N, 1);
    const oneLess = await phases(dp, N, 0);
    const removal = await phases(dp, 0, 0);
    rows.push({ round: r + 1, burst, noop, readsAlone, oneMore, oneLess, removal, ingest2N: ingestion(N) });
  }
  // The agent's path: a first apply reads back, the later ones trust what they wrote.
  const cache = new NodeRoutingCache();
  const agent = new KernelReconciler(dp);
  const agentRows: Record<string, unknown>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    agentRows.push({
      round: r + 1,
      burst: await agentPath(agent, cache, N, 0),
      oneMore: await agentPath(agent, cache, N, 1),
      oneLess: await agentPath(agent, cache, N, 0),
      removal: await agentPath(agent, cache, 0, 0),
    });
  }
  console.log(JSON.stringify({ n: N, rows, agentRows }, null, 1));
}

await main();
