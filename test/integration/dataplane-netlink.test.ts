// The Dataplane contract against NetlinkDataplane (rtnetlink through bun:ffi) in fresh tt-t-*
// namespaces, set up exactly as for the iproute2 driver: the "host" is a namespace of its own
// (never the root one) and the container is reached through a symlinked path.
import { afterAll, describe, expect, test } from "bun:test";
import { readlinkSync } from "node:fs";
import type { NetnsRef } from "../../src/dataplane/dataplane.ts";
import type { KernelOp } from "../../src/dataplane/kernel-op.ts";
import { LinuxDataplane } from "../../src/dataplane/linux/linux-dataplane.ts";
import { NetlinkDataplane } from "../../src/dataplane/linux/netlink-dataplane.ts";
import { dataplaneContract } from "../contract/dataplane-contract.ts";
import { linuxDataplaneFixture } from "../harness/linux-dataplane-fixture.ts";
import { cleanupAllNetns, createNetns, deleteNetns, isRoot, withNetns } from "../harness/netns.ts";

/** The op kinds of every apply that went to iproute2 during the contract run. */
const fellBack: string[][] = [];

/** The reads that went to iproute2 during the contract run, by kind. */
const readFellBack: string[] = [];

class RecordingFallback extends LinuxDataplane {
  override async apply(netns: NetnsRef, ops: readonly KernelOp[]): Promise<void> {
    fellBack.push(ops.map((o) => o.op));
    return super.apply(netns, ops);
  }
  override async links(netns: NetnsRef) {
    readFellBack.push("links");
    return super.links(netns);
  }
  override async link(netns: NetnsRef, name: string) {
    readFellBack.push("link");
    return super.link(netns, name);
  }
  override async addrs(netns: NetnsRef, dev?: string) {
    readFellBack.push("addrs");
    return super.addrs(netns, dev);
  }
  override async routes(netns: NetnsRef, family: 4 | 6) {
    readFellBack.push("routes");
    return super.routes(netns, family);
  }
  override async neighbours(netns: NetnsRef) {
    readFellBack.push("neighbours");
    return super.neighbours(netns);
  }
  override async fdb(netns: NetnsRef, dev: string) {
    readFellBack.push("fdb");
    return super.fdb(netns, dev);
  }
}

afterAll(cleanupAllNetns);

dataplaneContract(
  "Linux (netlink via bun:ffi)",
  () => linuxDataplaneFixture(new NetlinkDataplane(new RecordingFallback())),
  { skip: !isRoot },
);

/** Fails the test if the apply went to iproute2: the contract alone could pass on the fallback. */
class NoFallback extends LinuxDataplane {
  override async apply(): Promise<void> {
    throw new Error("fell back to iproute2");
  }
}

describe.skipIf(!isRoot)("NetlinkDataplane specifics", () => {
  test("during the contract, no apply and no read went to iproute2 (VXLAN and FDB included)", () => {
    expect(fellBack).toEqual([]);
    expect(readFellBack).toEqual([]);
  });

  test("failures read exactly as the iproute2 driver's (message, code, hint)", async () => {
    const cases: KernelOp[][] = [
      [{ op: "bridge-add", name: "br0" }],
      [{ op: "link-del", name: "nosuch" }],
      [{ op: "link-set", name: "br0", master: "nosuchbr" }],
      [{ op: "link-set", name: "nosuch", up: true }],
      [{ op: "link-set", name: "br0", hairpin: true }],
      [{ op: "addr-del", dev: "br0", cidr: "10.9.0.1/24" }],
      [{ op: "addr-add", dev: "br0", cidr: "10.1.0.1/24" }],
      [{ op: "addr-add", dev: "nosuch", cidr: "10.1.0.1/24" }],
      [{ op: "route-add", dst: "10.50.0.0/16", family: 4, via: "10.99.0.1" }],
      [{ op: "route-add", dst: "default", family: 6, via: "fd99::1" }],
      [{ op: "route-add", dst: "10.9.0.0/24", family: 4, dev: "br-down" }],
      [{ op: "route-add", dst: "10.9.0.0/24", family: 4, via: "10.1.0.9", src: "10.7.7.7" }],
      [{ op: "route-del", dst: "10.9.0.0/24", family: 4 }],
      [
        { op: "route-add", dst: "0.0.0.0/0", family: 4, dev: "br0", via: "10.1.0.9", append: true },
        { op: "route-add", dst: "0.0.0.0/0", family: 4, dev: "br0", via: "10.1.0.9", append: true },
      ],
      [{ op: "neigh-del", dev: "br0", ip: "10.1.0.77" }],
      [{ op: "neigh-replace", dev: "nosuch", ip: "10.1.0.77", mac: "02:00:00:00:00:01" }],
      [{ op: "vxlan-add", name: "vx0", vni: 9, dstport: 4789, dev: "nosuch" }],
      [
        { op: "vxlan-add", name: "vx0", vni: 9, dstport: 4789, dev: "br0", local: "10.1.0.1" },
        { op: "vxlan-add", name: "vx1", vni: 9, dstport: 4789, dev: "br0" },
      ],
      [{ op: "vxlan-add", name: "vx0", vni: 10, dstport: 4789 }],
      [{ op: "fdb-replace", dev: "nosuch", mac: "02:00:00:00:00:01", dst: "10.1.0.2" }],
      [{ op: "fdb-del", dev: "vx0", mac: "02:00:00:00:00:01", dst: "10.1.0.2" }],
      [{ op: "fdb-replace", dev: "br0", mac: "02:00:00:00:00:01", dst: "10.1.0.2" }],
      [{ op: "veth-add", name: "tt7", peer: "eth0", peerNetns: "/run/netns/tt-t-missing-x", mtu: 1500 }],
      [
        { op: "bridge-add", name: "br9" },
        { op: "link-del", name: "br9" },
        { op: "link-del", name: "br9" },
      ],
    ];
    const messages = async (dp: LinuxDataplane | NetlinkDataplane) => {
      await withNetns("e", async (ns) => {
        await dp.apply(ns.path, [
          { op: "bridge-add", name: "br0" },
          { op: "link-set", name: "br0", up: true },
          { op: "addr-add", dev: "br0", cidr: "10.1.0.1/24" },
          { op: "bridge-add", name: "br-down" },
        ]);
        const out: string[] = [];
        for (const ops of cases) {
          const err = await dp.apply(ns.path, ops).then(
            () => "no error",
            (e: { code?: string; message: string; hint?: string }) =>
              `${e.code}: ${e.message.replace(ns.path, "NS")} (${e.hint})`,
          );
          out.push(err);
        }
        return out;
      });
    };
    const native = new NetlinkDataplane(new NoFallback());
    expect(await messages(native)).toEqual(await messages(new LinuxDataplane()));
  });

  test("the CNI ADD's host and pod batches run natively, with no fallback", async () => {
    const host = await createNetns("h");
    const pod = await createNetns("p");
    try {
      const dp = new NetlinkDataplane(new NoFallback());
      await dp.apply(host.path, [
        { op: "bridge-add", name: "tartan0", mtu: 1500, mac: "02:11:22:33:44:55" },
        { op: "link-set", name: "tartan0", up: true },
        { op: "addr-add", dev: "tartan0", cidr: "10.22.0.1/24", replace: true },
        { op: "addr-add", dev: "tartan0", cidr: "fd22::1/64", replace: true, nodad: true },
        {
          op: "veth-add",
          name: "tt0123456789a",
          peer: "eth0",
          peerNetns: pod.path,
          mtu: 1500,
          mac: "02:00:00:00:00:01",
          peerMac: "0a:58:0a:16:00:05",
        },
        { op: "link-set", name: "tt0123456789a", master: "tartan0", up: true },
        { op: "link-set", name: "tt0123456789a", hairpin: true },
      ]);
      await dp.apply(pod.path, [
        { op: "addr-add", dev: "eth0", cidr: "10.22.0.5/24" },
        { op: "addr-add", dev: "eth0", cidr: "fd22::5/64", nodad: true },
        { op: "link-set", name: "eth0", up: true },
        { op: "route-add", dst: "default", family: 4, dev: "eth0", via: "10.22.0.1" },
        { op: "route-add", dst: "default", family: 6, dev: "eth0", via: "fd22::1" },
      ]);
      expect(dp.applied).toEqual({ netlink: 2, iproute2: 0 });
      const ip = new LinuxDataplane();
      expect((await ip.link(host.path, "tartan0"))?.mac).toBe("02:11:22:33:44:55");
      expect((await ip.link(host.path, "tt0123456789a"))?.mac).toBe("02:00:00:00:00:01");
      expect((await ip.link(host.path, "tt0123456789a"))?.hairpin).toBe(true);
      // `broadcast +` as the iproute2 driver sets it; nodad leaves the v6 address not tentative.
      const v4 = await pod.exec(["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
      expect(v4.stdout).toContain("10.22.0.5/24 brd 10.22.0.255");
      const v6 = await pod.exec(["ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global"]);
      expect(v6.stdout).not.toContain("tentative");
      // The pod end is in the pod namespace only; the host namespace did not receive it.
      expect(await ip.link(host.path, "eth0")).toBeUndefined();
    } finally {
      await deleteNetns(pod.name);
      await deleteNetns(host.name);
    }
  });

  test("route mtu, prefsrc, table > 255 and proto; delete by table", async () => {
    await withNetns("r", async (ns) => {
      const dp = new NetlinkDataplane(new NoFallback());
      await dp.apply(ns.path, [
        { op: "bridge-add", name: "br0" },
        { op: "link-set", name: "br0", up: true },
        { op: "addr-add", dev: "br0", cidr: "10.1.0.1/24" },
        {
          op: "route-add",
          dst: "10.9.0.0/16",
          family: 4,
          via: "10.1.0.2",
          src: "10.1.0.1",
          mtu: 1300,
          metric: 7,
          proto: 201,
        },
        { op: "route-add", dst: "10.8.0.0/16", family: 4, dev: "br0", table: 1000 },
      ]);
      const main = await ns.exec(["ip", "route", "show", "10.9.0.0/16"]);
      expect(main.stdout.trim()).toBe(
        "10.9.0.0/16 via 10.1.0.2 dev br0 proto 201 src 10.1.0.1 metric 7 mtu 1300",
      );
      const t = await ns.exec(["ip", "route", "show", "table", "1000"]);
      expect(t.stdout.trim()).toBe("10.8.0.0/16 dev br0 scope link");
      await dp.apply(ns.path, [{ op: "route-del", dst: "10.8.0.0/16", family: 4, table: 1000 }]);
      expect((await ns.exec(["ip", "route", "show", "table", "1000"])).stdout.trim()).toBe("");
    });
  });

  test("the agent's ops (VXLAN device, FDB, neighbours, onlink routes) run natively", async () => {
    await withNetns("f", async (ns) => {
      const dp = new NetlinkDataplane(new NoFallback());
      await dp.apply(ns.path, [
        { op: "bridge-add", name: "ul0" },
        { op: "link-set", name: "ul0", up: true },
        { op: "addr-add", dev: "ul0", cidr: "198.18.0.1/24" },
        { op: "vxlan-add", name: "vx0", vni: 42, dstport: 4789, dev: "ul0", local: "198.18.0.1", mtu: 1450 },
        { op: "link-set", name: "vx0", up: true },
        { op: "neigh-replace", dev: "vx0", ip: "10.244.1.0", mac: "02:aa:00:00:00:02" },
        { op: "fdb-replace", dev: "vx0", mac: "02:aa:00:00:00:02", dst: "198.18.0.2" },
        {
          op: "route-add",
          dst: "10.244.1.0/26",
          family: 4,
          dev: "vx0",
          via: "10.244.1.0",
          onlink: true,
          proto: 201,
          replace: true,
        },
      ]);
      expect(dp.applied).toEqual({ netlink: 1, iproute2: 0 });
      expect((await ns.exec(["ip", "-d", "link", "show", "vx0"])).stdout).toMatch(
        /vxlan id 42 local 198\.18\.0\.1 dev ul0 srcport 0 0 dstport 4789 nolearning/,
      );
      expect((await ns.exec(["bridge", "fdb", "show", "dev", "vx0"])).stdout).toContain(
        "02:aa:00:00:00:02 dst 198.18.0.2 self permanent",
      );
      expect((await ns.exec(["ip", "route", "show", "10.244.1.0/26"])).stdout.trim()).toBe(
        "10.244.1.0/26 via 10.244.1.0 dev vx0 proto 201 onlink",
      );
    });
  });

  test("an independent apply sends entries 64 to a datagram; device ops and a plain apply one by one", async () => {
    await withNetns("b", async (ns) => {
      const dp = new NetlinkDataplane(new NoFallback());
      const device: KernelOp[] = [
        { op: "bridge-add", name: "ul0" },
        { op: "link-set", name: "ul0", up: true },
        { op: "vxlan-add", name: "vx0", vni: 42, dstport: 4789, dev: "ul0", local: "198.18.0.1", mtu: 1450 },
        { op: "link-set", name: "vx0", up: true },
      ];
      const entries: KernelOp[] = [];
      for (let i = 0; i < 100; i++) {
        const mac = `02:aa:00:00:00:${i.toString(16).padStart(2, "0")}`;
        entries.push({ op: "neigh-replace", dev: "vx0", ip: `10.244.${i}.0`, mac });
        entries.push({ op: "fdb-replace", dev: "vx0", mac, dst: `198.18.1.${i}` });
      }
      for (let i = 0; i < 100; i++)
        entries.push({
          op: "route-add",
          dst: `10.244.${i}.0/26`,
          family: 4,
          dev: "vx0",
          via: `10.244.${i}.0`,
          onlink: true,
          proto: 201,
        });
      await dp.apply(ns.path, [...device, ...entries], { independent: true });
      // 4 device ops one by one, then 300 entries in ceil(300 / 64) = 5 datagrams.
      expect(dp.sent).toEqual({ requests: 304, datagrams: 9 });
      expect((await ns.exec(["ip", "route", "show", "proto", "201"])).stdout.trim().split("\n")).toHaveLength(
        100,
      );
      expect((await ns.exec(["ip", "neigh", "show", "dev", "vx0"])).stdout.trim().split("\n")).toHaveLength(
        100,
      );
      expect((await ns.exec(["bridge", "fdb", "show", "dev", "vx0"])).stdout).toContain(
        "02:aa:00:00:00:63 dst 198.18.1.99 self permanent",
      );
      // Without the option every request waits for its ack before the next goes out.
      await dp.apply(
        ns.path,
        entries
          .slice(0, 10)
          .map((o) => (o.op === "neigh-replace" ? { op: "neigh-del", dev: "vx0", ip: o.ip } : o)),
      );
      expect(dp.sent).toEqual({ requests: 314, datagrams: 19 });
      // A refusal in the middle of a datagram: the first refused op is named, later ones ran.
      const err = await dp
        .apply(
          ns.path,
          [
            { op: "neigh-del", dev: "vx0", ip: "10.244.0.0" },
            { op: "neigh-del", dev: "vx0", ip: "10.244.50.0" },
            { op: "neigh-del", dev: "vx0", ip: "10.244.51.0" },
          ],
          { independent: true },
        )
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      expect(err?.message).toMatch(
        /op 1 of 3 \(neigh-del dev=vx0 ip=10\.244\.0\.0\).*No such file or directory/,
      );
      const left = (await ns.exec(["ip", "neigh", "show", "dev", "vx0"])).stdout;
      expect(left).not.toContain("10.244.50.0 ");
      expect(left).not.toContain("10.244.51.0 ");
    });
  });

  test("an op with a field it does not know goes to iproute2 rather than without the field", async () => {
    await withNetns("u", async (ns) => {
      const seen: string[] = [];
      const dp = new NetlinkDataplane(
        new (class extends LinuxDataplane {
          override async apply(): Promise<void> {
            seen.push("iproute2");
          }
        })(),
      );
      const future = { op: "bridge-add", name: "br0", vlanFiltering: true } as unknown as KernelOp;
      await dp.apply(ns.path, [future]);
      expect(seen).toEqual(["iproute2"]);
      expect(dp.applied).toEqual({ netlink: 0, iproute2: 1 });
    });
  });

  test("the thread is back in its own namespace after every apply, also a failed one", async () => {
    await withNetns("n", async (ns) => {
      const self = readlinkSync("/proc/thread-self/ns/net");
      const dp = new NetlinkDataplane(new NoFallback());
      await dp.apply(ns.path, [{ op: "bridge-add", name: "br0" }]);
      await expect(dp.apply(ns.path, [{ op: "link-del", name: "nope" }])).rejects.toThrow(
        /op 1 of 1 \(link-del name=nope\) failed in netns .*Cannot find device "nope"/,
      );
      expect(readlinkSync("/proc/thread-self/ns/net")).toBe(self);
    });
  });
});
