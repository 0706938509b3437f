// LinuxNft against the real nftables in a fresh tt-t-* namespace (never the root one).
import { afterAll, describe, expect, test } from "bun:test";
import { BLOCKING_SCRIPT_MAX, IN_PROCESS_SCRIPT_MAX, LinuxNft } from "../../src/dataplane/linux/linux-nft.ts";
import { LibNftables } from "../../src/dataplane/linux/netlink/libnftables.ts";
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

  test("small scripts run in-process (libnftables), large ones through the binary", async () => {
    await withNetns("nft", async (ns) => {
      // No binary: what succeeds went through the library, what needs the binary fails to spawn.
      const nft = new LinuxNft("/nonexistent/nft");
      await nft.apply(ns.path, "add table inet tartan\nadd set inet tartan s { type ipv4_addr; }\n");
      const listed = await ns.exec(["nft", "list", "set", "inet", "tartan", "s"]);
      expect(listed.stdout).toContain("type ipv4_addr");
      // Refused in-process: nft's own words, nothing applied.
      await expect(
        nft.apply(ns.path, "add chain inet tartan c\nadd rule inet tartan c ip saddr @nosuch accept\n"),
      ).rejects.toThrow(/nft transaction failed.*No such file or directory/s);
      expect((await ns.exec(["nft", "list", "table", "inet", "tartan"])).stdout).not.toContain("chain c");
      // The library's freed memory back to the system: no effect on the kernel, no crash; and a
      // second release with no nft run since does not walk glibc's arenas again.
      const syms = (LibNftables.load() as unknown as { s: { malloc_trim: (pad: number) => number } }).s;
      const trim = syms.malloc_trim;
      let trims = 0;
      syms.malloc_trim = (pad) => {
        trims++;
        return trim(pad);
      };
      try {
        nft.releaseMemory();
        nft.releaseMemory();
      } finally {
        syms.malloc_trim = trim;
      }
      expect(trims).toBe(1);
      expect((await ns.exec(["nft", "list", "set", "inet", "tartan", "s"])).stdout).toContain(
        "type ipv4_addr",
      );
      const big = `add table inet tartan\n${"# padding\n".repeat(IN_PROCESS_SCRIPT_MAX / 10 + 1)}`;
      await expect(nft.apply(ns.path, big)).rejects.toThrow();
    });
  });

  test("with mayBlock (a first load), large scripts run in-process too, up to their own bound", async () => {
    await withNetns("nft", async (ns) => {
      // No binary, as above: only the library can have applied what succeeds.
      const nft = new LinuxNft("/nonexistent/nft");
      // A first load's shape: ~400 KB of sets with elements, over the ordinary in-process bound.
      const lines = ["add table inet tartan"];
      for (let s = 0; lines.join("\n").length <= IN_PROCESS_SCRIPT_MAX * 3; s++) {
        const els = Array.from({ length: 250 }, (_, i) => `10.${s >> 8}.${s & 255}.${i}`);
        lines.push(`add set inet tartan s${s} { type ipv4_addr; }`);
        lines.push(`add element inet tartan s${s} { ${els.join(", ")} }`);
      }
      const script = `${lines.join("\n")}\n`;
      expect(script.length).toBeGreaterThan(IN_PROCESS_SCRIPT_MAX);
      await expect(nft.apply(ns.path, script)).rejects.toThrow();
      expect(await ns.exec(["nft", "list", "tables"])).toMatchObject({ stdout: "" });
      await nft.apply(ns.path, script, { mayBlock: true });
      const listed = await ns.exec(["nft", "list", "set", "inet", "tartan", "s0"]);
      expect(listed.stdout).toContain("10.0.0.249");
      // Refused in-process at that size too: nft's words, nothing of it applied.
      const refused = `add set inet tartan zz { type ipv4_addr; }\n${lines.slice(1).join("\n")}\nadd rule inet tartan nochain accept\n`;
      expect(refused.length).toBeGreaterThan(IN_PROCESS_SCRIPT_MAX);
      await expect(nft.apply(ns.path, refused, { mayBlock: true })).rejects.toThrow(/nft transaction failed/);
      const zz = await ns.exec(["nft", "list", "set", "inet", "tartan", "zz"], { allowFailure: true });
      expect(zz.code).not.toBe(0);
      nft.releaseMemory();
      // Beyond the first load's own bound: the binary (absent here), never a longer block.
      const huge = `${script}${"# padding\n".repeat(BLOCKING_SCRIPT_MAX / 10 + 1)}`;
      await expect(nft.apply(ns.path, huge, { mayBlock: true })).rejects.toThrow();
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
