// Time of the CNI ADD's two Dataplane.apply() calls (host batch: bridge up, gateway address,
// veth with its peer created in the pod namespace, bridge port + hairpin; then the pod batch:
// addresses, link up, default routes), with the iproute2 driver (two `ip -batch` spawns) and the
// netlink driver (no spawn), in the same run, alternating, and the ratio netlink/iproute2.
//
//   bun bench/dataplane-apply.ts [--iterations N (200)] [--json]
//
// Safety: everything happens in tt-t-* namespaces created here (a "host" one per driver, so the
// bridges never meet, and one pod namespace per driver); the veth is deleted after each sample,
// and every namespace is removed at the end, also on failure and on SIGINT/SIGTERM.
import type { Dataplane } from "../src/dataplane/dataplane.ts";
import type { KernelOp } from "../src/dataplane/kernel-op.ts";
import { LinuxDataplane } from "../src/dataplane/linux/linux-dataplane.ts";
import { NetlinkDataplane } from "../src/dataplane/linux/netlink-dataplane.ts";
import { cleanupAllNetns, createNetns, isRoot } from "../test/harness/netns.ts";
import { summarize } from "./cni/stats.ts";

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const iterations = flag("--iterations", 200);
const json = argv.includes("--json");
const log = (msg: string): void => void process.stderr.write(`dataplane-apply: ${msg}\n`);

if (!isRoot) {
  log("needs root (it creates network namespaces)");
  process.exit(2);
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => void cleanupAllNetns().finally(() => process.exit(130)));
}

/** The ops cmd-add plans in bridge mode for a dual-stack pod on an existing bridge. */
function addBatches(podNs: string): { host: KernelOp[]; pod: KernelOp[] } {
  return {
    host: [
      { op: "link-set", name: "tartan0", up: true },
      { op: "addr-add", dev: "tartan0", cidr: "10.22.0.1/24", replace: true },
      { op: "addr-add", dev: "tartan0", cidr: "fd22::1/64", replace: true, nodad: true },
      {
        op: "veth-add",
        name: "tt0123456789a",
        peer: "eth0",
        peerNetns: podNs,
        mtu: 1500,
        mac: "02:00:00:00:00:01",
        peerMac: "0a:58:0a:16:00:05",
      },
      { op: "link-set", name: "tt0123456789a", master: "tartan0", up: true },
      { op: "link-set", name: "tt0123456789a", hairpin: true },
    ],
    pod: [
      { op: "addr-add", dev: "eth0", cidr: "10.22.0.5/24" },
      { op: "addr-add", dev: "eth0", cidr: "fd22::5/64", nodad: true },
      { op: "link-set", name: "eth0", up: true },
      { op: "route-add", dst: "default", family: 4, dev: "eth0", via: "10.22.0.1", append: true },
      { op: "route-add", dst: "default", family: 6, dev: "eth0", via: "fd22::1", append: true },
    ],
  };
}

interface Side {
  label: string;
  dp: Dataplane;
  host: string;
  pod: string;
  ms: number[];
}

async function sample(s: Side, counted: boolean): Promise<void> {
  const { host, pod } = addBatches(s.pod);
  const t0 = performance.now();
  await s.dp.apply(s.host, host);
  await s.dp.apply(s.pod, pod);
  const ms = performance.now() - t0;
  if (counted) s.ms.push(ms);
  // Not timed: deleting the host end removes the pod end with its addresses and routes.
  await s.dp.apply(s.host, [{ op: "link-del", name: "tt0123456789a" }]);
}

async function main(): Promise<void> {
  const netlink = new NetlinkDataplane();
  const sides: Side[] = [];
  for (const [label, dp] of [
    ["iproute2", new LinuxDataplane()],
    ["netlink", netlink],
  ] as const) {
    const host = (await createNetns("dh")).path;
    const pod = (await createNetns("dp")).path;
    await dp.apply(host, [{ op: "bridge-add", name: "tartan0", mtu: 1500, mac: "02:11:22:33:44:55" }]);
    sides.push({ label, dp, host, pod, ms: [] });
  }
  for (const s of sides) for (let i = 0; i < 5; i++) await sample(s, false);
  for (let i = 0; i < iterations; i++) {
    // Alternate which driver goes first so that machine noise hits both alike.
    for (const s of i % 2 === 0 ? sides : [...sides].reverse()) await sample(s, true);
  }
  if (netlink.applied.iproute2 > 0) throw new Error("the netlink driver fell back to iproute2");
  const [ip, nl] = sides.map((s) => ({ label: s.label, ...summarize(s.ms) }));
  const ratio = { p50: nl!.p50 / ip!.p50, p99: nl!.p99 / ip!.p99 };
  if (json) {
    console.log(JSON.stringify({ iterations, iproute2: ip, netlink: nl, ratio }));
    return;
  }
  const f = (n: number) => n.toFixed(2).padStart(7);
  console.log(`CNI-ADD-shaped apply (host batch + pod batch), ${iterations} samples each, ms`);
  console.log("driver       p50     p99    mean     min");
  for (const r of [ip!, nl!])
    console.log(`${r.label.padEnd(9)}${f(r.p50)} ${f(r.p99)} ${f(r.mean)} ${f(r.min)}`);
  console.log(`ratio netlink/iproute2: p50 ${ratio.p50.toFixed(3)}, p99 ${ratio.p99.toFixed(3)}`);
}

main()
  .catch((e) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  })
  .finally(cleanupAllNetns);
