// LinuxNft against the real nftables in a fresh tt-t-* namespace (never the root one).
import { afterAll, describe, expect, test } from "bun:test";
import { LinuxNft } from "../../src/dataplane/linux/linux-nft.ts";
import { cleanupAllNetns, isRoot, withNetns } from "../harness/netns.ts";

afterAll(cleanupAllNetns);

describe.skipIf(!isRoot)("LinuxNft", () => {
  test("applies, lists and deletes table inet tartan, leaving other tables alone", async () => {
    await withNetns("nft", async (ns) => {
      const nft = new LinuxNft();
      await ns.exec(["nft", "add table ip other; add chain ip other keep"]);
      await nft.apply(
        ns.path,
        `table inet tartan {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.22.0.0/16 ip daddr != 10.22.0.0/16 masquerade
  }
}
`,
      );
      const text = await nft.list(ns.path, "inet", "tartan");
      expect(text).toContain("table inet tartan {");
      expect(text).toContain("chain postrouting {");
      expect(text).toContain("masquerade");
      const json = (await nft.listJson(ns.path, "inet", "tartan")) as { nftables: Record<string, unknown>[] };
      expect(json.nftables.some((o) => "chain" in o)).toBe(true);

      await nft.apply(ns.path, "delete table inet tartan\n");
      expect(await nft.list(ns.path, "inet", "tartan")).toBeUndefined();
      expect(await nft.listJson(ns.path, "inet", "tartan")).toBeUndefined();
      expect(await nft.list(ns.path, "ip", "other")).toContain("chain keep");
    });
  });

  test("a failing script is one transaction: nothing of it applies", async () => {
    await withNetns("nft", async (ns) => {
      const nft = new LinuxNft();
      await expect(
        nft.apply(ns.path, "add table inet tartan\ndelete table ip nosuchtable\n"),
      ).rejects.toThrow(/nft transaction failed.*No such file or directory/s);
      expect(await nft.list(ns.path, "inet", "tartan")).toBeUndefined();
    });
  });
});
