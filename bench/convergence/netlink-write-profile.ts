// The netlink driver's write cost for N remote nodes' entries (N neighbours, N FDB entries and N
// onlink routes through a VXLAN device, then their removal), one request per ack against an
// independent apply (64 requests to a datagram, ApplyOptions.independent), alternately, in the
// network namespace this process runs in (root; run it under `ip netns exec tt-t-…`, never in the
// host's):
//
//   ip netns add tt-t-nlw && ip netns exec tt-t-nlw bun bench/convergence/netlink-write-profile.ts 1000 10; ip netns del tt-t-nlw
//
// The namespace gets a bridge `ul0` and a VXLAN device; everything goes with the namespace.
import type { KernelOp } from "../../src/dataplane/kernel-op.ts";
import { NetlinkDataplane } from "../../src/dataplane/linux/netlink-dataplane.ts";
import { run } from "../../src/exec/run.ts";

const N = Number(process.argv[2] ?? "1000");
const ROUNDS = Number(process.argv[3] ?? "6");
const DEV = "tartan.vxlan";
await run(["ip", "link", "add", "ul0", "type", "bridge"]);
await run(["ip", "addr", "add", "198.18.0.2/15", "dev", "ul0"]);
await run(["ip", "link", "set", "ul0", "up"]);
await run(["ip", "link", "add", DEV, "type", "vxlan", "id", "4096", "local", "198.18.0.2", "dev", "ul0"]);
await run(["ip", "link", "set", DEV, "up"]);
const adds: KernelOp[] = [];
const dels: KernelOp[] = [];
for (let i = 0; i < N; i++) {
  const ip = `198.18.${2 + Math.floor(i / 200)}.${10 + (i % 200)}`;
  const mac = `02:bb:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
  const dst = `10.244.${i >> 2}.${(i & 3) * 64}/26`;
  // The reconciler's order: neighbours and FDB entries, then routes; removal routes first.
  adds.splice(
    2 * i,
    0,
    { op: "neigh-replace", dev: DEV, ip, mac },
    { op: "fdb-replace", dev: DEV, mac, dst: ip },
  );
  adds.push({ op: "route-add", dst, family: 4, via: ip, dev: DEV, onlink: true, proto: 201 });
  dels.splice(i, 0, { op: "route-del", dst, family: 4, via: ip, dev: DEV, proto: 201 });
  dels.push({ op: "neigh-del", dev: DEV, ip }, { op: "fdb-del", dev: DEV, mac, dst: ip });
}
const dp = new NetlinkDataplane();
const ms = (t: number) => (performance.now() - t).toFixed(1);
for (let r = 0; r < ROUNDS; r++) {
  const independent = r % 2 === 1;
  const d0 = dp.sent.datagrams;
  const u0 = process.cpuUsage();
  let t = performance.now();
  await dp.apply(null, adds, { independent });
  const a = ms(t);
  t = performance.now();
  await dp.apply(null, dels, { independent });
  const d = ms(t);
  const cpu = process.cpuUsage(u0);
  console.log(
    `round ${r} ${independent ? "independent" : "one by one "}: add ${adds.length} ops ${a} ms, remove ${d} ms, ` +
      `${dp.sent.datagrams - d0} datagrams, CPU user ${(cpu.user / 1000).toFixed(0)} ms sys ${(cpu.system / 1000).toFixed(0)} ms`,
  );
}
