import { expect, test } from "bun:test";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { ipamStoreContract } from "../harness/ipam-store-contract.ts";

ipamStoreContract("memory", () => new MemoryIpamStore());

test("memory store hands out copies, so callers cannot change it behind its back", () => {
  const s = new MemoryIpamStore();
  s.transaction((tx) =>
    tx.reserve({ network: "n", ip: "10.0.0.2", containerId: "c", ifname: "e", rangeKey: "r" }),
  );
  s.transaction((tx) => {
    const first = tx.allocations("n")[0]!;
    first.ip = "10.0.0.99";
  });
  s.transaction((tx) => expect(tx.isAllocated("n", "10.0.0.2")).toBe(true));
});
