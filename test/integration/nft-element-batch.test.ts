// Set element batches over nf_tables netlink (decision 0020) against the real kernel, in tt-t-*
// namespaces of the test's own: the elements a batch adds and deletes leave the set exactly as
// the same `add element` / `delete element` lines through `nft -f` do (compared as `nft -j list
// set`), a batch of more than one message per set works, and a refused batch (an element to
// delete that is not there, a set that does not exist) changes nothing and says what was refused.
import { afterAll, describe, expect, test } from "bun:test";
import { LinuxNft } from "../../src/dataplane/linux/linux-nft.ts";
import type { NftElementChange } from "../../src/dataplane/nft-table.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { cleanupAllNetns, isRoot, type TestNetns, withNetns } from "../harness/netns.ts";

afterAll(cleanupAllNetns);

const TABLE = `table inet tartan {
  set a4 { type ipv4_addr; }
  set a6 { type ipv6_addr; }
  set b4 { type ipv4_addr; }
  set b6 { type ipv6_addr; }
}
`;

/** The elements of a set as nft lists them (JSON), sorted. */
async function elements(ns: TestNetns, set: string): Promise<string[]> {
  const r = await ns.exec(["nft", "-j", "list", "set", "inet", "tartan", set]);
  const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: string[] } }[] };
  return (doc.nftables.find((o) => o.set)?.set?.elem ?? []).map(String).sort();
}

const script = (set: string, cs: NftElementChange[]) =>
  cs.map((c) => `${c.verb} element inet tartan ${set} { ${c.elements.join(", ")} }\n`).join("");

describe.skipIf(!isRoot)("nf_tables element batches (real kernel)", () => {
  test("adds and deletes equal what nft -f does, v4 and v6, more than one message per set", async () => {
    await withNetns("nfel", async (ns) => {
      await ns.exec(["nft", "-f", "-"], { stdin: TABLE });
      // No nft binary: a fallback to nft -f would fail, so what passes went over netlink.
      const nft = new LinuxNft("/nonexistent/nft", { libnftables: false });
      const many = Array.from({ length: 1500 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
      const steps: { v4: NftElementChange[]; v6: NftElementChange[] }[] = [
        {
          v4: [{ verb: "add", set: "", family: 4, elements: ["10.0.0.1", "10.0.0.2", "10.0.0.3", ...many] }],
          v6: [{ verb: "add", set: "", family: 6, elements: ["fd00::1", "fd00::2", "2001:db8::a:1"] }],
        },
        {
          // deletes first, then adds (one already there: no error, as with nft's add)
          v4: [
            { verb: "delete", set: "", family: 4, elements: ["10.0.0.2", ...many.slice(0, 1200)] },
            { verb: "add", set: "", family: 4, elements: ["10.0.0.1", "10.0.0.9"] },
          ],
          v6: [
            { verb: "delete", set: "", family: 6, elements: ["fd00::1"] },
            { verb: "add", set: "", family: 6, elements: ["fd00::9"] },
          ],
        },
      ];
      for (const step of steps) {
        // a*: netlink batch; b*: the same through nft -f
        await nft.applyElements(ns.path, "tartan", [
          ...step.v4.map((c) => ({ ...c, set: "a4" })),
          ...step.v6.map((c) => ({ ...c, set: "a6" })),
        ]);
        await ns.exec(["nft", "-f", "-"], { stdin: script("b4", step.v4) + script("b6", step.v6) });
        expect(await elements(ns, "a4")).toEqual(await elements(ns, "b4"));
        expect(await elements(ns, "a6")).toEqual(await elements(ns, "b6"));
      }
      expect(await elements(ns, "a4")).toContain("10.0.0.9");
      expect((await elements(ns, "a4")).length).toBe(3 + 300);
      expect(await elements(ns, "a6")).toEqual(["2001:db8::a:1", "fd00::2", "fd00::9"]);
    });
  }, 60_000);

  test("a refused batch changes nothing and names what was refused", async () => {
    await withNetns("nfel", async (ns) => {
      await ns.exec(["nft", "-f", "-"], { stdin: `${TABLE}add element inet tartan a4 { 10.0.0.1 }\n` });
      const nft = new LinuxNft("/nonexistent/nft", { libnftables: false });
      const refused = async (cs: NftElementChange[]): Promise<TartanError> => {
        try {
          await nft.applyElements(ns.path, "tartan", cs);
        } catch (e) {
          return e as TartanError;
        }
        throw new Error("the batch was not refused");
      };
      // The add comes first in the batch and is undone with the rest.
      const missing = await refused([
        { verb: "add", set: "a4", family: 4, elements: ["10.0.0.5"] },
        { verb: "delete", set: "a4", family: 4, elements: ["10.0.0.7"] },
      ]);
      expect(missing).toBeInstanceOf(TartanError);
      expect(missing.code).toBe("nft-apply-failed");
      expect(missing.message).toContain("element batch refused");
      expect(missing.message).toContain("nothing was applied");
      expect(missing.message).toContain("delete element inet tartan a4 { 10.0.0.7 }");
      expect(missing.message).toMatch(/No such file or directory/);
      expect(missing.hint).toBeTruthy();
      expect(await elements(ns, "a4")).toEqual(["10.0.0.1"]);

      const noSet = await refused([
        { verb: "add", set: "a4", family: 4, elements: ["10.0.0.5"] },
        { verb: "add", set: "nope4", family: 4, elements: ["10.0.0.6"] },
      ]);
      expect(noSet.message).toContain("add element inet tartan nope4 { 10.0.0.6 }");
      expect(await elements(ns, "a4")).toEqual(["10.0.0.1"]);

      // A wrong-sized key (an IPv6 address into an IPv4 set) is refused by the encoder before sending.
      await expect(
        nft.applyElements(ns.path, "tartan", [{ verb: "add", set: "a4", family: 4, elements: ["fd00::1"] }]),
      ).rejects.toThrow(/not an IPv4 address/);
      expect(await elements(ns, "a4")).toEqual(["10.0.0.1"]);
    });
  }, 60_000);
});
