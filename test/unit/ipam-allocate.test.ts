import { describe, expect, test } from "bun:test";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { type AddressAssignment, allocate } from "../../src/ipam/allocate.ts";
import { parseIpamConfig } from "../../src/ipam/ipam-config.ts";
import { rangeSetUsage } from "../../src/ipam/range-set-usage.ts";
import { release } from "../../src/ipam/release.ts";
import { parseIp } from "../../src/model/ip.ts";

function setup(ranges: unknown) {
  const store = new MemoryIpamStore();
  const cfg = parseIpamConfig({ name: "net", ipam: { ranges } });
  const add = (containerId: string, requested: string[] = [], ifname = "eth0"): AddressAssignment[] =>
    store.transaction((tx) =>
      allocate(tx, {
        network: "net",
        containerId,
        ifname,
        rangeSets: cfg.rangeSets,
        requestedIps: requested.map((t) => parseIp(t)),
      }),
    );
  const del = (containerId: string, ifname = "eth0") =>
    store.transaction((tx) => release(tx, "net", containerId, ifname));
  const held = () =>
    store.transaction((tx) =>
      tx
        .allocations("net")
        .map((a) => a.ip)
        .sort(),
    );
  const usage = () => store.transaction((tx) => rangeSetUsage(tx, "net", cfg.rangeSets));
  return { store, cfg, add, del, held, usage };
}

function tartanError(fn: () => unknown): TartanError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TartanError) return e;
    throw e;
  }
  throw new Error("expected a TartanError");
}

describe("allocate", () => {
  test("first address of a default range is network+2 (the gateway is skipped), with the subnet prefix", () => {
    const { add } = setup([[{ subnet: "10.88.0.0/16" }]]);
    expect(add("c1")).toEqual([
      {
        address: "10.88.0.2/16",
        ip: "10.88.0.2",
        gateway: "10.88.0.1",
        family: 4,
        rangeKey: "10.88.0.0/16",
        rangeSet: 0,
      },
    ]);
    expect(add("c2")[0]!.address).toBe("10.88.0.3/16");
  });

  test("dual-stack: one IPv4 and one IPv6 address, in range-set order", () => {
    const { add } = setup([[{ subnet: "10.88.0.0/24" }], [{ subnet: "fd00:88::/64" }]]);
    const got = add("c1");
    expect(got.map((a) => [a.address, a.gateway, a.family])).toEqual([
      ["10.88.0.2/24", "10.88.0.1", 4],
      ["fd00:88::2/64", "fd00:88::1", 6],
    ]);
  });

  test("round robin: a released address is not reused until the range wraps around", () => {
    const { add, del } = setup([[{ subnet: "10.0.0.0/29" }]]); // .2-.6 usable
    expect(add("a")[0]!.ip).toBe("10.0.0.2");
    expect(add("b")[0]!.ip).toBe("10.0.0.3");
    del("a");
    expect(add("c")[0]!.ip).toBe("10.0.0.4");
    expect(add("d")[0]!.ip).toBe("10.0.0.5");
    expect(add("e")[0]!.ip).toBe("10.0.0.6");
    // wraps: skips .0 (network) and .1 (gateway) and .7 (broadcast), .2 is free again
    expect(add("f")[0]!.ip).toBe("10.0.0.2");
  });

  test("rangeStart == rangeEnd hands out exactly that one address", () => {
    const { add } = setup([[{ subnet: "10.0.0.0/24", rangeStart: "10.0.0.9", rangeEnd: "10.0.0.9" }]]);
    expect(add("a")[0]!.address).toBe("10.0.0.9/24");
    expect(tartanError(() => add("b")).code).toBe("ipam-exhausted");
  });

  test("a /30 has one address to hand out, a /126 has two", () => {
    const v4 = setup([[{ subnet: "192.168.5.0/30" }]]);
    expect(v4.add("a")[0]!.address).toBe("192.168.5.2/30");
    expect(tartanError(() => v4.add("b")).code).toBe("ipam-exhausted");
    const v6 = setup([[{ subnet: "fd00::/126" }]]);
    expect(v6.add("a")[0]!.address).toBe("fd00::2/126");
    expect(v6.add("b")[0]!.address).toBe("fd00::3/126");
    expect(tartanError(() => v6.add("c")).code).toBe("ipam-exhausted");
  });

  test("alternative ranges of a set are tried in order", () => {
    const { add } = setup([[{ subnet: "10.0.0.0/30" }, { subnet: "10.0.1.0/30" }]]);
    expect(add("a")[0]!.rangeKey).toBe("10.0.0.0/30");
    const b = add("b")[0]!;
    expect([b.address, b.gateway, b.rangeKey]).toEqual(["10.0.1.2/30", "10.0.1.1", "10.0.1.0/30"]);
  });

  test("exhaustion names network and range, hints, and reserves nothing of the request", () => {
    const { add, held, usage } = setup([[{ subnet: "10.0.0.0/24" }], [{ subnet: "10.9.0.0/30" }]]);
    add("a");
    expect(usage().map((u) => [u.rangeSet, u.free, u.exhausted])).toEqual([
      [0, 252n, false],
      [1, 0n, true],
    ]);
    const err = tartanError(() => add("b"));
    expect(err.code).toBe("ipam-exhausted");
    expect(err.message).toContain('network "net"');
    expect(err.message).toContain("10.9.0.0/30");
    expect(err.hint).toContain("GC");
    // b's IPv4 address of set 0 was rolled back with the failed set 1.
    expect(held()).toEqual(["10.0.0.2", "10.9.0.2"]);
  });

  test("re-ADD of the same owner returns its existing addresses; another ifname gets new ones", () => {
    const { add, held } = setup([[{ subnet: "10.0.0.0/24" }], [{ subnet: "fd00::/64" }]]);
    const first = add("a");
    expect(add("a")).toEqual(first);
    expect(add("a", ["10.0.0.2"])).toEqual(first);
    expect(add("a", [], "net1").map((x) => x.ip)).toEqual(["10.0.0.3", "fd00::3"]);
    expect(held()).toHaveLength(4);
    expect(tartanError(() => add("a", ["10.0.0.50"])).code).toBe("ipam-already-allocated");
  });

  test("re-ADD after a config change keeps what is held and fills the new set", () => {
    const store = new MemoryIpamStore();
    const v4 = parseIpamConfig({ name: "net", ipam: { ranges: [[{ subnet: "10.0.0.0/24" }]] } }).rangeSets;
    const dual = parseIpamConfig({
      name: "net",
      ipam: { ranges: [[{ subnet: "10.0.0.0/24" }], [{ subnet: "fd00::/64" }]] },
    }).rangeSets;
    const req = { network: "net", containerId: "a", ifname: "eth0" };
    store.transaction((tx) => allocate(tx, { ...req, rangeSets: v4 }));
    const again = store.transaction((tx) => allocate(tx, { ...req, rangeSets: dual }));
    expect(again.map((x) => x.ip)).toEqual(["10.0.0.2", "fd00::2"]);
  });
});

describe("static addresses", () => {
  test("are reserved exactly; sets without a request get a dynamic address", () => {
    const { add } = setup([[{ subnet: "10.0.0.0/24" }], [{ subnet: "fd00::/64" }]]);
    expect(add("a", ["fd00::abcd"]).map((x) => x.address)).toEqual(["10.0.0.2/24", "fd00::abcd/64"]);
    expect(add("b", ["10.0.0.77", "fd00::77"]).map((x) => x.address)).toEqual([
      "10.0.0.77/24",
      "fd00::77/64",
    ]);
  });

  test("do not move the round-robin cursor", () => {
    const { add } = setup([[{ subnet: "10.0.0.0/24" }]]);
    add("a", ["10.0.0.100"]);
    expect(add("b")[0]!.ip).toBe("10.0.0.2");
  });

  test("a taken address is an error and nothing of the request is reserved", () => {
    const { add, held } = setup([[{ subnet: "10.0.0.0/24" }], [{ subnet: "fd00::/64" }]]);
    add("a", ["fd00::5"]);
    const err = tartanError(() => add("b", ["fd00::5"]));
    expect(err.code).toBe("ipam-ip-in-use");
    expect(err.message).toContain("fd00::5");
    expect(held()).toEqual(["10.0.0.2", "fd00::5"]);
  });

  test("an address outside every range is an error naming it", () => {
    const { add, held } = setup([
      [{ subnet: "10.0.0.0/24", rangeStart: "10.0.0.10", rangeEnd: "10.0.0.20" }],
    ]);
    for (const ip of ["10.0.1.5", "10.0.0.30", "fd00::1"]) {
      const err = tartanError(() => add("a", [ip]));
      expect(err.code).toBe("ipam-ip-not-in-range");
      expect(err.message).toContain(ip);
    }
    expect(held()).toEqual([]);
  });

  test("the gateway, network and broadcast addresses cannot be requested", () => {
    const { add } = setup([[{ subnet: "10.0.0.0/24", rangeStart: "10.0.0.0", rangeEnd: "10.0.0.255" }]]);
    for (const ip of ["10.0.0.0", "10.0.0.1", "10.0.0.255"]) {
      expect(tartanError(() => add("a", [ip])).code).toBe("ipam-ip-not-in-range");
    }
  });

  test("two requests in one range set are refused", () => {
    const { add } = setup([[{ subnet: "10.0.0.0/24" }]]);
    expect(tartanError(() => add("a", ["10.0.0.5", "10.0.0.6"])).code).toBe("ipam-ip-request-invalid");
  });
});

describe("release", () => {
  test("releases the owner's addresses and attachment, and is idempotent", () => {
    const { store, add, del, held } = setup([[{ subnet: "10.0.0.0/24" }]]);
    add("a");
    add("b");
    store.transaction((tx) =>
      tx.putAttachment({
        network: "net",
        containerId: "a",
        ifname: "eth0",
        netns: "/run/netns/a",
        hostIfname: "tt0123456789a",
        result: "{}",
        createdAt: 1,
      }),
    );
    const r = del("a");
    expect(r.allocations.map((a) => a.ip)).toEqual(["10.0.0.2"]);
    expect(r.attachment?.hostIfname).toBe("tt0123456789a");
    expect(held()).toEqual(["10.0.0.3"]);
    expect(del("a")).toEqual({ containerId: "a", ifname: "eth0", allocations: [], attachment: undefined });
  });
});
