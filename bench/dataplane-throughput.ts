// Pod-to-pod TCP throughput (iperf3, one stream) through a real tartan lab, against a hand-built
// reference of the same path measured in the same run, for each backend: same-node and
// cross-node (vxlan, host-gw), and for cross-subnet on a two-subnet lab both of its paths
// (same-subnet peer: host-gw; other-subnet peer: VXLAN through the fabric's router).
// Tartan and reference runs alternate (which goes first flips every round); medians, ratios
// tartan/reference and the target (>= 0.95 of the reference for the same path) are printed.
//
//   npm run bench:dataplane [-- --rounds R (5)] [--seconds S (5)] [--backends vxlan,host-gw,cross-subnet] [--json]
//
// References: same-node against a direct veth pair (namespace to namespace, the floor of any
// path; a routed pod -> node -> pod reference of the exact same shape is printed too); cross-node
// against routed /32 veths via two node namespaces joined by a bridge namespace (host-gw), plus a
// kernel VXLAN device with static FDB (vxlan). The reference uses the MTUs tartan's lab has:
// underlay (read from the lab node's eth0), pod (read from the lab pod's eth0) and VXLAN device.
//
// Safety: traffic only inside namespaces this script (or its lab) created: the labs tl-<lab>-*
// (`tartan lab up/down`), the reference tt-t-* (test harness). Nothing in the root namespace.
// iperf3 servers are stopped by PID; labs taken down and namespaces deleted at the end, also on
// failure and on SIGINT/SIGTERM/SIGHUP.
import { existsSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { run } from "../src/exec/run.ts";
import { ROUTING_BACKENDS, type RoutingBackendName } from "../src/model/routing-backend.ts";
import { cleanupAllNetns, isRoot } from "../test/harness/netns.ts";
import { cleanupAll, cleanupOnSignals, trackLab, untrackLab } from "./lab/cleanup.ts";
import { labDown, labName, labPodAdd, labUp, TARTAN } from "./lab/lab-cli.ts";
import { type IperfServer, iperfClient, startIperfServer } from "./throughput/iperf.ts";
import { buildDirectVeth, buildReference, type RefPod } from "./throughput/reference-world.ts";

type Backend = RoutingBackendName;
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const rounds = Number(opt("--rounds", "5"));
const seconds = Number(opt("--seconds", "5"));
const backends = opt("--backends", ROUTING_BACKENDS.join(",")).split(",") as Backend[];
const json = argv.includes("--json");
const TARGET = 0.95;
const log = (m: string): void => void process.stderr.write(`dataplane-throughput: ${m}\n`);

if (!isRoot) {
  log("needs root (it creates network namespaces)");
  process.exit(2);
}
if (!existsSync(TARTAN)) {
  log(`${TARTAN} is missing: run \`npm run build\` first`);
  process.exit(2);
}
cleanupOnSignals(log);

interface Endpoint {
  netns: string;
  ip: string;
}
interface Measure {
  label: string;
  client: Endpoint;
  server: Endpoint;
  gbps: number[];
  retransmits: number[];
}
interface PathRow {
  backend: Backend;
  path: string;
  tartan: Measure;
  reference: Measure;
  /** Same-node only: the routed pod -> node -> pod reference, the exact shape of tartan's path. */
  routedSameNode?: Measure;
  route: { tartan: string; reference: string };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function linkMtu(netns: string, dev: string): Promise<number | undefined> {
  const r = await run(["ip", "-n", netns, "-j", "link", "show", "dev", dev], { allowFailure: true });
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { mtu: number }[])[0]?.mtu;
}

async function routeGet(netns: string, ip: string): Promise<string> {
  const r = await run(["ip", "-n", netns, "route", "get", ip], { allowFailure: true });
  return r.stdout.split("\n")[0]!.replace(/\s+/g, " ").trim();
}

const measure = (label: string, client: Endpoint, server: Endpoint): Measure => ({
  label,
  client,
  server,
  gbps: [],
  retransmits: [],
});

async function sample(m: Measure, s: number, counted: boolean): Promise<void> {
  const r = await iperfClient(m.client.netns, m.server.ip, s);
  if (!counted) return;
  m.gbps.push(r.gbps);
  m.retransmits.push(r.retransmits);
}

async function runBackend(
  backend: Backend,
): Promise<{ rows: PathRow[]; mtu: Record<string, number | undefined> }> {
  const name = labName("bdp");
  const nodes = backend === "cross-subnet" ? 3 : 2;
  const subnets = backend === "cross-subnet" ? 2 : 1;
  log(`${backend}: lab ${name} up (${nodes} nodes, ${subnets} subnet(s))`);
  trackLab(name);
  const servers: IperfServer[] = [];
  try {
    const lab = await labUp(name, { nodes, backend, subnets });
    const node = (i: number) => lab.nodes[i - 1]!;
    const podDefs = [
      { name: "a", node: 1 },
      { name: "b", node: 1 },
      { name: "c", node: 2 },
      ...(nodes === 3 ? [{ name: "d", node: 3 }] : []),
    ];
    const tp = new Map<string, Endpoint>();
    for (const p of podDefs) {
      const info = await labPodAdd(name, `node-${p.node}`, p.name);
      tp.set(p.name, { netns: info.netns, ip: info.ips[0]! });
    }
    // The MTUs tartan gave this lab: the reference uses the same.
    const underlayMtu = (await linkMtu(node(1).netns, "eth0")) ?? 1500;
    const podMtu = (await linkMtu(tp.get("a")!.netns, "eth0")) ?? 1500;
    const vxlanMtu = (await linkMtu(node(1).netns, "tartan.vxlan")) ?? underlayMtu - 50;
    const mtu = { underlay: underlayMtu, pod: podMtu, vxlan: vxlanMtu };
    log(`${backend}: MTU underlay ${underlayMtu}, pod ${podMtu}, vxlan device ${vxlanMtu}`);

    const links: { a: number; b: number; kind: "host-gw" | "vxlan" }[] =
      backend === "vxlan"
        ? [{ a: 1, b: 2, kind: "vxlan" }]
        : backend === "host-gw"
          ? [{ a: 1, b: 2, kind: "host-gw" }]
          : [
              { a: 1, b: 2, kind: "vxlan" },
              { a: 1, b: 3, kind: "host-gw" },
            ];
    const ref = await buildReference({
      label: "r",
      nodes,
      subnets: subnets as 1 | 2,
      underlayMtu,
      podMtu,
      vxlanMtu,
      pods: podDefs,
      links,
    });
    const direct = await buildDirectVeth("d", podMtu);
    const rp = (n: string): RefPod => ref.pods.get(n)!;

    const defs: { path: string; client: string; server: string }[] = [
      { path: "same-node", client: "a", server: "b" },
      ...(backend === "cross-subnet"
        ? [
            { path: "cross-node, same subnet (host-gw)", client: "a", server: "d" },
            { path: "cross-node, other subnet (vxlan)", client: "a", server: "c" },
          ]
        : [{ path: "cross-node", client: "a", server: "c" }]),
    ];
    const rows: PathRow[] = [];
    for (const d of defs) {
      const sameNode = d.path === "same-node";
      const row: PathRow = {
        backend,
        path: d.path,
        tartan: measure("tartan", tp.get(d.client)!, tp.get(d.server)!),
        reference: sameNode
          ? measure("direct veth", direct.client, direct.server)
          : measure("hand-built", rp(d.client), rp(d.server)),
        route: {
          tartan: await routeGet(node(1).netns, tp.get(d.server)!.ip),
          reference: sameNode ? "direct veth" : "",
        },
      };
      if (sameNode) row.routedSameNode = measure("routed pod-node-pod", rp(d.client), rp(d.server));
      rows.push(row);
    }
    // Where node 1 routes each server, on both sides (evidence that the same path kind is used).
    for (const r of rows) {
      if (r.path !== "same-node")
        r.route.reference = await routeGet(ref.nodeNetns[0]!, r.reference.server.ip);
    }

    const serverNs = new Set<string>();
    for (const r of rows)
      for (const m of [r.tartan, r.reference, r.routedSameNode]) if (m) serverNs.add(m.server.netns);
    for (const ns of serverNs) servers.push(await startIperfServer(ns));

    const all = rows.flatMap((r) => [r.tartan, r.reference, ...(r.routedSameNode ? [r.routedSameNode] : [])]);
    log(`${backend}: warm-up (1 s per path and side)`);
    for (const m of all) await sample(m, 1, false);
    for (let round = 0; round < rounds; round++) {
      for (const r of rows) {
        const refs = [r.reference, ...(r.routedSameNode ? [r.routedSameNode] : [])];
        const order = round % 2 === 0 ? [r.tartan, ...refs] : [...refs, r.tartan];
        for (const m of order) await sample(m, seconds, true);
      }
      log(
        `${backend}: round ${round + 1}/${rounds}: ` +
          rows
            .map(
              (r) =>
                `${r.path} tartan ${r.tartan.gbps.at(-1)!.toFixed(1)} ref ${r.reference.gbps.at(-1)!.toFixed(1)}`,
            )
            .join("; "),
      );
    }
    return { rows, mtu };
  } finally {
    for (const s of servers) await s.stop();
    const r = await labDown(name);
    untrackLab(name);
    if (r.leftovers.length) log(`lab ${name}: LEFT ${r.leftovers.join(", ")}`);
    await cleanupAllNetns();
  }
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const machine = `${cpus().length} vCPU ${cpus()[0]?.model ?? ""}, kernel ${release()}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`;
  const results: { backend: Backend; rows: PathRow[]; mtu: Record<string, number | undefined> }[] = [];
  for (const b of backends) results.push({ backend: b, ...(await runBackend(b)) });
  const out = results.flatMap((r) =>
    r.rows.map((row) => {
      const t = median(row.tartan.gbps);
      const ref = median(row.reference.gbps);
      const routed = row.routedSameNode ? median(row.routedSameNode.gbps) : undefined;
      // Each round's tartan and reference runs are adjacent in time: their ratio cancels most of
      // the machine's slow drift (other users' load), so its median is the headline figure.
      const paired = median(row.tartan.gbps.map((x, i) => x / row.reference.gbps[i]!));
      return {
        backend: row.backend,
        pairedRatio: paired,
        path: row.path,
        mtu: r.mtu,
        tartanGbps: t,
        referenceGbps: ref,
        reference: row.reference.label,
        ratio: t / ref,
        target: TARGET,
        met: paired >= TARGET,
        routedSameNodeGbps: routed,
        ratioVsRoutedSameNode: routed ? t / routed : undefined,
        samples: {
          tartan: row.tartan.gbps,
          reference: row.reference.gbps,
          routedSameNode: row.routedSameNode?.gbps,
          tartanRetransmits: row.tartan.retransmits,
          referenceRetransmits: row.reference.retransmits,
        },
        route: row.route,
      };
    }),
  );
  if (json) {
    console.log(JSON.stringify({ started, machine, rounds, seconds, results: out }, null, 2));
    return;
  }
  const f = (n: number | undefined) => (n === undefined ? "-" : n.toFixed(2));
  console.log(
    `pod-to-pod TCP, iperf3 one stream, ${seconds} s x ${rounds} rounds per side; ${machine}; ${started}`,
  );
  console.log(
    "| backend | path | MTU pod/underlay | tartan Gbit/s | reference | reference Gbit/s | ratio of medians | median of paired ratios | target | met |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const o of out) {
    console.log(
      `| ${o.backend} | ${o.path} | ${o.mtu.pod}/${o.mtu.underlay} | ${f(o.tartanGbps)} | ${o.reference} | ${f(o.referenceGbps)} | ${f(o.ratio)} | ${f(o.pairedRatio)} | >= ${TARGET} | ${o.met ? "yes" : "no"} |`,
    );
  }
  for (const o of out) {
    if (o.routedSameNodeGbps !== undefined)
      console.log(
        `${o.backend} same-node vs a routed pod -> node -> pod reference (same shape as tartan's): ${f(o.routedSameNodeGbps)} Gbit/s, ratio ${f(o.ratioVsRoutedSameNode)}`,
      );
  }
  for (const o of out)
    console.log(`${o.backend} ${o.path}: tartan route "${o.route.tartan}"; reference "${o.route.reference}"`);
  for (const o of out)
    console.log(
      `${o.backend} ${o.path}: samples tartan [${o.samples.tartan.map((x) => x.toFixed(1)).join(" ")}] reference [${o.samples.reference.map((x) => x.toFixed(1)).join(" ")}]`,
    );
}

main()
  .catch((e) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  })
  .finally(() => cleanupAll(log));
