// Where libc cannot be loaded (not glibc, not Linux) the netlink driver hands every apply and
// every read to its iproute2 fallback, so the agent still works, just with spawns.
import { expect, test } from "bun:test";
import { FakeDataplane } from "../../src/dataplane/fake/fake-dataplane.ts";
import { NetlinkDataplane } from "../../src/dataplane/linux/netlink-dataplane.ts";

test("without libc, applies and reads (links, routes, neighbours, FDB) go to the fallback", async () => {
  const fake = new FakeDataplane();
  const dp = new NetlinkDataplane(fake, () => undefined);
  await dp.apply(null, [
    { op: "bridge-add", name: "ul0" },
    { op: "vxlan-add", name: "vx0", vni: 7, dstport: 4789, dev: "ul0" },
    { op: "fdb-replace", dev: "vx0", mac: "02:aa:00:00:00:02", dst: "198.18.0.2" },
  ]);
  expect((await dp.link(null, "vx0"))?.vxlan?.vni).toBe(7);
  expect((await dp.links(null)).map((l) => l.name)).toContain("ul0");
  expect(await dp.fdb(null, "vx0")).toEqual([{ dev: "vx0", mac: "02:aa:00:00:00:02", dst: "198.18.0.2" }]);
  expect(await dp.routes(null, 4)).toEqual(await fake.routes(null, 4));
  expect(await dp.neighbours(null)).toEqual([]);
  expect(dp.applied).toEqual({ netlink: 0, iproute2: 1 });
  expect(dp.reads).toEqual({ netlink: 0, iproute2: 5 });
});
