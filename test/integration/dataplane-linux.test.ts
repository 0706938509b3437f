// The Dataplane contract against the real kernel through iproute2, in fresh tt-t-* namespaces:
// the "host" is a namespace of its own (never the root one), and the container is reached
// through a symlinked path so that both targeting modes run (ip -n NAME and nsenter).
import { afterAll, describe, expect, test } from "bun:test";
import { LinuxDataplane } from "../../src/dataplane/linux/linux-dataplane.ts";
import { dataplaneContract } from "../contract/dataplane-contract.ts";
import { linuxDataplaneFixture } from "../harness/linux-dataplane-fixture.ts";
import { cleanupAllNetns, isRoot, withNetns } from "../harness/netns.ts";

afterAll(cleanupAllNetns);

dataplaneContract("Linux (iproute2)", () => linuxDataplaneFixture(new LinuxDataplane()), { skip: !isRoot });

describe.skipIf(!isRoot)("LinuxDataplane specifics", () => {
  test("one apply is one ip -batch run: ops after a failure are not applied", async () => {
    await withNetns("b", async (ns) => {
      const dp = new LinuxDataplane();
      await expect(
        dp.apply(ns.path, [
          { op: "bridge-add", name: "br0" },
          { op: "link-set", name: "br0", up: true },
          { op: "link-del", name: "nope" },
          { op: "bridge-add", name: "br1" },
        ]),
      ).rejects.toThrow(
        /op 3 of 4 \(link-del name=nope\) failed in netns \/run\/netns\/tt-t-b-.*Cannot find device/,
      );
      expect((await dp.link(ns.path, "br0"))?.up).toBe(true);
      expect(await dp.link(ns.path, "br1")).toBeUndefined();
    });
  });

  test("addresses read back without the kernel's IPv6 link-local ones", async () => {
    await withNetns("a", async (ns) => {
      const dp = new LinuxDataplane();
      await dp.apply(ns.path, [
        { op: "bridge-add", name: "br0" },
        { op: "link-set", name: "br0", up: true },
        { op: "addr-add", dev: "br0", cidr: "fd01:0:0::1/64", nodad: true },
      ]);
      const raw = await ns.exec(["ip", "-6", "addr", "show", "dev", "br0"]);
      const addrs = await dp.addrs(ns.path, "br0");
      expect(addrs).toEqual([{ dev: "br0", cidr: "fd01::1/64", family: 6, scope: "global" }]);
      expect(raw.stdout).toContain("fd01::1/64");
    });
  });
});

describe.skipIf(!isRoot)("LinuxDataplane netnsExists", () => {
  test("accepts /proc/PID/ns/net, refuses other namespace kinds and plain files", async () => {
    const dp = new LinuxDataplane();
    expect(await dp.netnsExists("/proc/self/ns/net")).toBe(true);
    expect(await dp.netnsExists("/proc/self/ns/mnt")).toBe(false);
    expect(await dp.netnsExists("/etc/hostname")).toBe(false);
    expect(await dp.netnsExists("/nonexistent/netns")).toBe(false);
  });
});
