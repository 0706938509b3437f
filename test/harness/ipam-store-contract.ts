import { describe, expect, test } from "bun:test";
import type { Allocation, Attachment, IpamStore } from "../../src/datastore/ipam-store.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";

const alloc = (ip: string, containerId = "c1", ifname = "eth0", network = "net"): Allocation => ({
  network,
  ip,
  containerId,
  ifname,
  rangeKey: "10.0.0.0/24",
});

const attachment = (containerId: string, over: Partial<Attachment> = {}): Attachment => ({
  network: "net",
  containerId,
  ifname: "eth0",
  netns: `/run/netns/${containerId}`,
  hostIfname: `tt${containerId}`,
  result: '{"cniVersion":"1.1.0"}',
  createdAt: 1700000000000,
  ...over,
});

const ips = (list: Allocation[]): string[] => list.map((a) => a.ip).sort();

/**
 * The behaviour every IpamStore adapter must share. `open` gives a fresh, empty store; the suite
 * closes it after each test.
 */
export function ipamStoreContract(adapter: string, open: () => IpamStore): void {
  describe(`IpamStore contract: ${adapter}`, () => {
    const withStore = (fn: (s: IpamStore) => void) => () => {
      const s = open();
      try {
        fn(s);
      } finally {
        s.close();
      }
    };

    test(
      "reserve makes an address visible to every query",
      withStore((s) => {
        s.transaction((tx) => {
          tx.reserve(alloc("10.0.0.2"));
          tx.reserve(alloc("10.0.0.3", "c2"));
        });
        s.transaction((tx) => {
          expect(tx.isAllocated("net", "10.0.0.2")).toBe(true);
          expect(tx.isAllocated("net", "10.0.0.4")).toBe(false);
          expect(tx.isAllocated("other", "10.0.0.2")).toBe(false);
          expect(tx.countAllocations("net")).toBe(2);
          expect(tx.countAllocations("other")).toBe(0);
          expect(ips(tx.allocations("net"))).toEqual(["10.0.0.2", "10.0.0.3"]);
          expect(tx.allocationsOf("net", "c2", "eth0")).toEqual([alloc("10.0.0.3", "c2")]);
          expect(tx.allocationsOf("net", "c2", "eth1")).toEqual([]);
        });
      }),
    );

    test(
      "reserving a taken address throws ipam-ip-in-use, whoever holds it; other networks are independent",
      withStore((s) => {
        s.transaction((tx) => tx.reserve(alloc("10.0.0.2")));
        for (const owner of ["c1", "c9"]) {
          let err: unknown;
          try {
            s.transaction((tx) => tx.reserve(alloc("10.0.0.2", owner)));
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(TartanError);
          expect((err as TartanError).code).toBe("ipam-ip-in-use");
        }
        s.transaction((tx) => tx.reserve(alloc("10.0.0.2", "c1", "eth0", "net2")));
        s.transaction((tx) => {
          expect(tx.allocations("net")).toEqual([alloc("10.0.0.2")]);
          expect(tx.countAllocations("net2")).toBe(1);
        });
      }),
    );

    test(
      "release frees exactly the owner's addresses and returns them; releasing nothing is fine",
      withStore((s) => {
        s.transaction((tx) => {
          tx.reserve(alloc("10.0.0.2"));
          tx.reserve(alloc("fd00::2"));
          tx.reserve(alloc("10.0.0.3", "c1", "eth1"));
          tx.reserve(alloc("10.0.0.4", "c2"));
        });
        const released = s.transaction((tx) => tx.release("net", "c1", "eth0"));
        expect(ips(released)).toEqual(["10.0.0.2", "fd00::2"]);
        s.transaction((tx) => {
          expect(ips(tx.allocations("net"))).toEqual(["10.0.0.3", "10.0.0.4"]);
          expect(tx.release("net", "c1", "eth0")).toEqual([]);
          expect(tx.release("nope", "c2", "eth0")).toEqual([]);
        });
      }),
    );

    test(
      "the round-robin cursor is kept per network and range",
      withStore((s) => {
        s.transaction((tx) => {
          expect(tx.lastReserved("net", "r1")).toBeUndefined();
          tx.setLastReserved("net", "r1", "10.0.0.5");
          tx.setLastReserved("net", "r2", "10.0.1.5");
          tx.setLastReserved("net2", "r1", "10.9.0.5");
        });
        s.transaction((tx) => tx.setLastReserved("net", "r1", "10.0.0.6"));
        s.transaction((tx) => {
          expect(tx.lastReserved("net", "r1")).toBe("10.0.0.6");
          expect(tx.lastReserved("net", "r2")).toBe("10.0.1.5");
          expect(tx.lastReserved("net2", "r1")).toBe("10.9.0.5");
        });
      }),
    );

    test(
      "attachments are stored, replaced, listed and deleted by owner",
      withStore((s) => {
        s.transaction((tx) => {
          tx.putAttachment(attachment("c1"));
          tx.putAttachment(attachment("c2"));
          tx.putAttachment(attachment("c1", { network: "net2" }));
        });
        s.transaction((tx) => tx.putAttachment(attachment("c1", { hostIfname: "ttnew" })));
        s.transaction((tx) => {
          expect(tx.getAttachment("net", "c1", "eth0")).toEqual(attachment("c1", { hostIfname: "ttnew" }));
          expect(tx.getAttachment("net", "c1", "eth1")).toBeUndefined();
          expect(tx.attachments("net").map((a) => a.containerId)).toEqual(["c1", "c2"]);
          tx.deleteAttachment("net", "c1", "eth0");
          tx.deleteAttachment("net", "c1", "eth0");
        });
        s.transaction((tx) => {
          expect(tx.attachments("net")).toEqual([attachment("c2")]);
          expect(tx.attachments("net2")).toHaveLength(1);
        });
      }),
    );

    test(
      "networks() lists networks with reservations or attachments",
      withStore((s) => {
        s.transaction((tx) => {
          expect(tx.networks()).toEqual([]);
          tx.reserve(alloc("10.0.0.2", "c1", "eth0", "b"));
          tx.putAttachment(attachment("c1", { network: "a" }));
        });
        s.transaction((tx) => expect(tx.networks()).toEqual(["a", "b"]));
        s.transaction((tx) => {
          tx.release("b", "c1", "eth0");
          tx.deleteAttachment("a", "c1", "eth0");
        });
        s.transaction((tx) => expect(tx.networks()).toEqual([]));
      }),
    );

    test(
      "a throw inside a transaction rolls back every change of it and is rethrown",
      withStore((s) => {
        s.transaction((tx) => {
          tx.reserve(alloc("10.0.0.2"));
          tx.setLastReserved("net", "r", "10.0.0.2");
        });
        const boom = new Error("boom");
        expect(() =>
          s.transaction((tx) => {
            tx.reserve(alloc("10.0.0.3"));
            tx.release("net", "c1", "eth0");
            tx.setLastReserved("net", "r", "10.0.0.3");
            tx.putAttachment(attachment("c1"));
            throw boom;
          }),
        ).toThrow(boom);
        s.transaction((tx) => {
          expect(tx.allocations("net")).toEqual([alloc("10.0.0.2")]);
          expect(tx.lastReserved("net", "r")).toBe("10.0.0.2");
          expect(tx.attachments("net")).toEqual([]);
        });
      }),
    );

    test(
      "node blocks are kept per network in the order given, replaced whole, removed by an empty list",
      withStore((s) => {
        s.transaction((tx) => {
          expect(tx.nodeBlocks("net")).toEqual([]);
          tx.setNodeBlocks("net", ["10.244.0.64/26", "10.244.0.0/26", "fd44::/122"]);
          tx.setNodeBlocks("net2", ["10.9.0.0/26"]);
        });
        s.transaction((tx) => {
          expect(tx.nodeBlocks("net")).toEqual(["10.244.0.64/26", "10.244.0.0/26", "fd44::/122"]);
          tx.setNodeBlocks("net", ["10.244.0.0/26"]);
        });
        s.transaction((tx) => {
          expect(tx.nodeBlocks("net")).toEqual(["10.244.0.0/26"]);
          expect(tx.nodeBlocks("net2")).toEqual(["10.9.0.0/26"]);
          tx.setNodeBlocks("net2", []);
        });
        s.transaction((tx) => expect(tx.nodeBlocks("net2")).toEqual([]));
        expect(() =>
          s.transaction((tx) => {
            tx.setNodeBlocks("net", []);
            throw new Error("boom");
          }),
        ).toThrow("boom");
        s.transaction((tx) => expect(tx.nodeBlocks("net")).toEqual(["10.244.0.0/26"]));
      }),
    );

    test(
      "transaction returns fn's value",
      withStore((s) => {
        expect(s.transaction(() => 42)).toBe(42);
      }),
    );
  });
}
