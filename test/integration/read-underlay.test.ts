// readUnderlay on the real kernel, in a namespace of the test's own (the contract's other half
// runs on the fake kernel in test/unit/read-underlay.test.ts).
import { NetlinkDataplane } from "../../src/dataplane/linux/netlink-dataplane.ts";
import { underlayContract } from "../contract/underlay-contract.ts";
import { createNetns, deleteNetns } from "../harness/netns.ts";

underlayContract("netlink, real kernel", async () => {
  const ns = await createNetns("ul");
  return { dp: new NetlinkDataplane(), netns: ns.path, cleanup: () => deleteNetns(ns.name) };
});
