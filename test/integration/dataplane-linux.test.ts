// The Dataplane contract against the real kernel through iproute2, in fresh tt-t-* namespaces:
// the "host" is a namespace of its own (never the root one), and the container is reached
// through a symlinked path so that both targeting modes run (ip -n NAME and nsenter).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LinuxDataplane } from "../../src/dataplane/linux/linux-dataplane.ts";
import { dataplaneContract } from "../contract/dataplane-contract.ts";
import { cleanupAllNetns, createNetns, deleteNetns, isRoot } from "../harness/netns.ts";

afterAll(cleanupAllNetns);

dataplaneContract(
  "Linux (iproute2)",
  async () => {
    const hostNs = await createNetns("h");
    const ctrNs = await createNetns("c");
    const dir = mkdtempSync(join(tmpdir(), "tt-t-"));
    const ctrPath = join(dir, "netns");
    symlinkSync(ctrNs.path, ctrPath);
    return {
      dp: new LinuxDataplane(),
      host: hostNs.path,
      container: ctrPath,
      missing: `/run/netns/tt-t-missing-${hostNs.name.slice(-8)}`,
      cleanup: async () => {
        await deleteNetns(ctrNs.name);
        await deleteNetns(hostNs.name);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { skip: !isRoot },
);

describe.skipIf(!isRoot)("LinuxDataplane specifics", () => {
  test("one apply is one ip -batch run: ops after a failure are not applied", async () => {
    const ns = await createNetns("b");
    try {
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
    } finally {
      await deleteNetns(ns.name);
    }
  });

  test("addresses read back without the kernel's IPv6 link-local ones", async () => {
    const ns = await createNetns("a");
    try {
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
    } finally {
      await deleteNetns(ns.name);
    }
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
