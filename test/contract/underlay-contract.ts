// readUnderlay's contract, run against the fake kernel (test/unit/read-underlay.test.ts) and the
// real one in a namespace of the test's own (test/integration/read-underlay.test.ts): each form
// of underlayInterface finds the interface and address a node would advertise.
import { describe, expect, test } from "bun:test";
import { readUnderlay } from "../../src/agent/read-underlay.ts";
import type { Dataplane } from "../../src/dataplane/dataplane.ts";
import type { KernelOp } from "../../src/dataplane/kernel-op.ts";

export interface UnderlayFixture {
  dp: Dataplane;
  /** A namespace with nothing but lo in it. */
  netns: string;
  cleanup(): Promise<void>;
}

// Three "NICs" (bridges: a link type every kernel has) named as nodes name them, and tartan's
// own bridge, which autodetection must never pick though it has an address in the CIDR.
const NICS: KernelOp[] = [
  { op: "bridge-add", name: "tartan0", mtu: 1500 },
  { op: "bridge-add", name: "ens5", mtu: 9001 },
  { op: "bridge-add", name: "enp0s8", mtu: 1500 },
  { op: "bridge-add", name: "eth1", mtu: 1450 },
  { op: "bridge-add", name: "eth2", mtu: 1500 },
  ...["tartan0", "ens5", "enp0s8", "eth1", "eth2"].map(
    (name): KernelOp => ({ op: "link-set", name, up: true }),
  ),
  { op: "addr-add", dev: "tartan0", cidr: "10.20.0.1/24" },
  { op: "addr-add", dev: "ens5", cidr: "192.168.7.10/24" },
  { op: "addr-add", dev: "enp0s8", cidr: "10.20.30.40/16" },
  { op: "addr-add", dev: "enp0s8", cidr: "172.16.0.5/12" },
  { op: "addr-add", dev: "eth1", cidr: "fd00:77::5/64", nodad: true },
];

export function underlayContract(name: string, make: () => Promise<UnderlayFixture>): void {
  describe(`readUnderlay (${name})`, () => {
    const withNics = async (more: KernelOp[], fn: (f: UnderlayFixture) => Promise<void>) => {
      const f = await make();
      try {
        await f.dp.apply(f.netns, [...NICS, ...more]);
        await fn(f);
      } finally {
        await f.cleanup();
      }
    };

    test("a name: that interface, its first IPv4 address, subnet and MTU; IPv6 when it has no IPv4", async () => {
      await withNics([], async ({ dp, netns }) => {
        expect(await readUnderlay(dp, "ens5", netns)).toEqual({
          interface: "ens5",
          address: "192.168.7.10",
          subnet: "192.168.7.0/24",
          mtu: 9001,
        });
        expect(await readUnderlay(dp, "eth1", netns)).toMatchObject({
          interface: "eth1",
          address: "fd00:77::5",
        });
        await expect(readUnderlay(dp, "eth9", netns)).rejects.toMatchObject({
          code: "agent-underlay-missing",
        });
        await expect(readUnderlay(dp, "eth2", netns)).rejects.toMatchObject({
          code: "agent-underlay-no-address",
        });
      });
    });

    test("cidr=: the interface with an address inside (that address, not the first), never tartan's own", async () => {
      await withNics([], async ({ dp, netns }) => {
        expect(await readUnderlay(dp, "cidr=172.16.0.0/12", netns)).toEqual({
          interface: "enp0s8",
          address: "172.16.0.5",
          subnet: "172.16.0.0/12",
          mtu: 1500,
        });
        // tartan0 holds 10.20.0.1, inside 10.20.0.0/16 too: skipped.
        expect(await readUnderlay(dp, "cidr=10.20.0.0/16", netns)).toMatchObject({
          interface: "enp0s8",
          address: "10.20.30.40",
        });
        expect(await readUnderlay(dp, "cidr=10.99.0.0/16, fd00:77::/64", netns)).toMatchObject({
          interface: "eth1",
          address: "fd00:77::5",
        });
        const e = await readUnderlay(dp, "cidr=10.99.0.0/16", netns).catch((x) => x);
        expect(e).toMatchObject({ code: "agent-underlay-missing" });
        // The error lists what it saw, so the operator can fix the CIDR.
        expect(e.message).toContain("ens5 192.168.7.10/24");
        expect(e.message).not.toContain("tartan0");
      });
    });

    test("interface=: the first matching name (in name order) that has a global address", async () => {
      await withNics([], async ({ dp, netns }) => {
        expect(await readUnderlay(dp, "interface=^en", netns)).toMatchObject({ interface: "enp0s8" });
        // eth1 has only IPv6, eth2 nothing: eth1, with its IPv6 address.
        expect(await readUnderlay(dp, "interface=^eth", netns)).toMatchObject({
          interface: "eth1",
          address: "fd00:77::5",
        });
        await expect(readUnderlay(dp, "interface=^tartan", netns)).rejects.toMatchObject({
          code: "agent-underlay-missing",
        });
      });
    });

    test("default-route: the interface of the IPv4 default route with the lowest metric", async () => {
      await withNics(
        [
          { op: "route-add", dst: "default", family: 4, dev: "ens5", via: "192.168.7.1", metric: 200 },
          { op: "route-add", dst: "default", family: 4, dev: "enp0s8", via: "10.20.255.254", metric: 100 },
        ],
        async ({ dp, netns }) => {
          expect(await readUnderlay(dp, "default-route", netns)).toEqual({
            interface: "enp0s8",
            address: "10.20.30.40",
            subnet: "10.20.0.0/16",
            mtu: 1500,
          });
        },
      );
    });

    test("default-route without any default route: a clear error", async () => {
      await withNics([], async ({ dp, netns }) => {
        const e = await readUnderlay(dp, "default-route", netns).catch((x) => x);
        expect(e).toMatchObject({ code: "agent-underlay-missing" });
        expect(e.hint).toContain("cidr=");
      });
    });
  });
}
