import { describe, expect, test } from "bun:test";
import { FakeNft } from "../../src/dataplane/fake/fake-nft.ts";

const SCRIPT = `table inet tartan {
\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tip saddr 10.22.0.0/16 masquerade
\t}
}
add chain inet tartan forward
`;

describe("FakeNft", () => {
  test("records scripts; block syntax and statements build the same model", async () => {
    const nft = new FakeNft();
    await nft.apply("/run/netns/x", SCRIPT);
    expect(nft.scripts).toEqual([{ netns: "/run/netns/x", script: SCRIPT }]);
    const text = await nft.list("/run/netns/x", "inet", "tartan");
    expect(text).toContain("table inet tartan {");
    expect(text).toContain("chain postrouting {");
    expect(text).toContain("chain forward {");
    expect(await nft.list(null, "inet", "tartan")).toBeUndefined();
    expect(text).toContain("type nat hook postrouting priority 100; policy accept;");
    expect(text).toContain("ip saddr 10.22.0.0/16 masquerade");
    const json = (await nft.listJson("/run/netns/x", "inet", "tartan")) as { nftables: object[] };
    expect(json.nftables).toContainEqual({
      chain: {
        family: "inet",
        table: "tartan",
        name: "postrouting",
        type: "nat",
        hook: "postrouting",
        prio: 100,
        policy: "accept",
      },
    });
    expect(json.nftables).toContainEqual({ chain: { family: "inet", table: "tartan", name: "forward" } });
    await nft.apply("/run/netns/x", "delete chain inet tartan forward\n");
    expect(await nft.list("/run/netns/x", "inet", "tartan")).not.toContain("forward");
    await nft.apply("/run/netns/x", "delete table inet tartan\n");
    expect(await nft.list("/run/netns/x", "inet", "tartan")).toBeUndefined();
  });

  test("a failing script applies nothing, like an nft transaction", async () => {
    const nft = new FakeNft();
    await expect(nft.apply(null, "add table inet tartan\ndelete table ip missing\n")).rejects.toThrow(
      /No such file or directory/,
    );
    expect(await nft.list(null, "inet", "tartan")).toBeUndefined();
    expect(nft.scripts).toEqual([]);
  });

  test("failNext makes the next apply fail once", async () => {
    const nft = new FakeNft();
    nft.failNext("Error: Could not process rule: No buffer space available");
    await expect(nft.apply(null, "add table inet tartan\n")).rejects.toThrow(/No buffer space/);
    await nft.apply(null, "add table inet tartan\n");
    expect(await nft.list(null, "inet", "tartan")).toBeDefined();
  });
});
