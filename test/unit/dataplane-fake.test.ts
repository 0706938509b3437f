import { describe, expect, test } from "bun:test";
import { FakeDataplane } from "../../src/dataplane/fake/fake-dataplane.ts";
import { dataplaneContract } from "../contract/dataplane-contract.ts";

const CTR = "/run/netns/fake-ctr";

dataplaneContract("fake kernel", async () => {
  const dp = new FakeDataplane();
  dp.addNetns(CTR);
  return { dp, host: null, container: CTR, missing: "/run/netns/fake-missing", cleanup: async () => {} };
});

describe("FakeDataplane test hooks", () => {
  const setup = () => {
    const dp = new FakeDataplane();
    dp.addNetns(CTR);
    return dp;
  };

  test("failNext fails the matching op once, after the earlier ops applied", async () => {
    const dp = setup();
    dp.failNext((op) => op.op === "addr-add", "Cannot allocate memory");
    const ops = [
      { op: "veth-add", name: "tt1", peer: "eth0", peerNetns: CTR, mtu: 1500 },
      { op: "addr-add", dev: "tt1", cidr: "10.0.0.1/24" },
    ] as const;
    await expect(dp.apply(null, ops)).rejects.toThrow(/op 2 of 2 \(addr-add.*Cannot allocate memory/);
    expect(await dp.link(null, "tt1")).toBeDefined();
    expect(await dp.addrs(null, "tt1")).toEqual([]);
    await dp.apply(null, [ops[1]]);
    expect((await dp.addrs(null, "tt1")).map((a) => a.cidr)).toEqual(["10.0.0.1/24"]);
  });

  test("counts writes so callers can assert a second apply writes nothing", async () => {
    const dp = setup();
    await dp.apply(null, [{ op: "bridge-add", name: "tartan0" }]);
    await dp.sysctlSet(null, "net/ipv4/ip_forward", "1");
    expect(dp.writes).toBe(2);
    expect(dp.applyCalls).toBe(1);
    expect(dp.applied.map((a) => a.op.op)).toEqual(["bridge-add"]);
    dp.resetCounters();
    await dp.apply(null, []);
    expect(dp.writes).toBe(0);
    expect(dp.applyCalls).toBe(0);
  });

  test("removing a namespace removes veth peers outside it", async () => {
    const dp = setup();
    await dp.apply(null, [{ op: "veth-add", name: "tt1", peer: "eth0", peerNetns: CTR, mtu: 1500 }]);
    dp.removeNetns(CTR);
    expect(await dp.link(null, "tt1")).toBeUndefined();
    expect(await dp.netnsExists(CTR)).toBe(false);
    await expect(dp.links(CTR)).rejects.toThrow(/Cannot open network namespace/);
  });

  test("a failed op leaves no partial state behind", async () => {
    const dp = setup();
    await dp.apply(CTR, [{ op: "bridge-add", name: "eth0" }]);
    // the host end would be fine, the peer name clashes in CTR: nothing may be created
    await expect(
      dp.apply(null, [{ op: "veth-add", name: "tt1", peer: "eth0", peerNetns: CTR, mtu: 1500 }]),
    ).rejects.toThrow(/File exists/);
    expect(await dp.link(null, "tt1")).toBeUndefined();
  });

  test("invalid ops are refused before anything applies", async () => {
    const dp = setup();
    await expect(
      dp.apply(null, [
        { op: "bridge-add", name: "ok0" },
        { op: "bridge-add", name: "bad name\nlink del ok0" },
      ]),
    ).rejects.toThrow(/not a link name/);
    expect(await dp.link(null, "ok0")).toBeUndefined();
  });

  test("a route dst with host bits is refused like the kernel does", async () => {
    const dp = setup();
    await dp.apply(null, [
      { op: "bridge-add", name: "br0" },
      { op: "link-set", name: "br0", up: true },
    ]);
    await expect(
      dp.apply(null, [{ op: "route-add", dst: "10.0.0.5/24", family: 4, dev: "br0" }]),
    ).rejects.toThrow(/Invalid prefix/);
  });
});
