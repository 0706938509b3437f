import { expect, test } from "bun:test";
import type { Attachment } from "../../src/datastore/ipam-store.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { allocate } from "../../src/ipam/allocate.ts";
import { gc } from "../../src/ipam/gc.ts";
import { parseIpamConfig } from "../../src/ipam/ipam-config.ts";

const attachment = (network: string, containerId: string, ifname = "eth0"): Attachment => ({
  network,
  containerId,
  ifname,
  netns: "",
  hostIfname: `tt-${containerId}`,
  result: "{}",
  createdAt: 1,
});

test("GC releases every reservation and attachment not in the valid list, only of its network", () => {
  const store = new MemoryIpamStore();
  const { rangeSets } = parseIpamConfig({ name: "net", ipam: { ranges: [[{ subnet: "10.0.0.0/24" }]] } });
  store.transaction((tx) => {
    for (const [network, containerId, ifname] of [
      ["net", "live", "eth0"],
      ["net", "live", "net1"],
      ["net", "dead", "eth0"],
      ["other", "dead", "eth0"],
    ] as const) {
      allocate(tx, { network, containerId, ifname, rangeSets });
      tx.putAttachment(attachment(network, containerId, ifname));
    }
    // an attachment whose reservation is already gone, and a reservation with no attachment
    tx.putAttachment(attachment("net", "ghost"));
    allocate(tx, { network: "net", containerId: "orphan", ifname: "eth0", rangeSets });
  });

  const released = store.transaction((tx) =>
    gc(tx, "net", [
      { containerID: "live", ifname: "eth0" },
      { containerID: "live", ifname: "net1" },
    ]),
  );
  const summary = released
    .map((r) => [r.containerId, r.allocations.map((a) => a.ip), r.attachment?.hostIfname])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  expect(summary).toEqual([
    ["dead", ["10.0.0.4"], "tt-dead"],
    ["ghost", [], "tt-ghost"],
    ["orphan", ["10.0.0.5"], undefined],
  ]);
  store.transaction((tx) => {
    expect(tx.allocations("net").map((a) => `${a.containerId}/${a.ifname}`)).toEqual([
      "live/eth0",
      "live/net1",
    ]);
    expect(tx.attachments("net").map((a) => a.containerId)).toEqual(["live", "live"]);
    expect(tx.allocations("other")).toHaveLength(1);
    expect(tx.attachments("other")).toHaveLength(1);
  });
  // A second GC with the same list finds nothing more.
  expect(store.transaction((tx) => gc(tx, "net", [{ containerID: "live", ifname: "eth0" }]))).toHaveLength(1);
});
