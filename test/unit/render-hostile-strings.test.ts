// Defence in depth behind the agent's ingestion validation: a hostile string that reaches the
// renderers anyway (as a chain or counter name, a log prefix, a chain note, a map's jump target)
// must leave the nft script one statement per line, every quote closed, every name one nft
// identifier, and must compare equal with itself after an apply (no endless rewrites).
import { describe, expect, test } from "bun:test";
import { podChainName } from "../../src/calc/policy-names.ts";
import { FakeNft } from "../../src/dataplane/fake/fake-nft.ts";
import { nftName, nftQuoted } from "../../src/render/nft-text.ts";
import { parsePolicyState } from "../../src/render/policy-kernel-state.ts";
import { policyStateOf, renderPolicyDelta, renderPolicyFull } from "../../src/render/policy-nft.ts";
import { HOSTILE, hostilePolicyIr } from "../harness/hostile-policy-ir.ts";

describe("hostile strings past validation, straight into the renderer", () => {
  test("the script stays one statement per line, with closed quotes and identifier names", async () => {
    const ir = hostilePolicyIr();
    const script = renderPolicyFull(ir);
    const lines = script.split("\n").filter((l) => l !== "");
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) {
      expect(l).toMatch(/^(add|flush|delete) (table|chain|rule|set|map|element|counter) inet tartan( |$)/);
      expect(l).not.toMatch(/[\u0000-\u001f\u007f\\]/);
      expect((l.match(/"/g) ?? []).length % 2).toBe(0);
      expect(l).not.toContain('flush ruleset"');
    }
    // The hostile chain is still there, under a hashed name, and the map jumps to that name.
    const hashed = nftName(`ing/prod/${HOSTILE}`);
    expect(hashed).toMatch(/^ing\/_r\/[0-9a-f]{16}$/);
    expect(lines).toContain(`add chain inet tartan ${hashed}`);
    expect(script).toContain(`10.0.0.1 : jump ${hashed}`);
    expect(script).toContain(`counter name "${nftName(`drop/ing/prod/${HOSTILE}`)}"`);
    // The fake nft (strict grammar: identifiers, balanced blocks) accepts it, and what it then
    // holds compares equal with the IR: the next delta is empty, not a rewrite on every apply.
    const nft = new FakeNft();
    await nft.apply(null, script);
    const kernel = parsePolicyState(await nft.listJson!(null, "inet", "tartan"));
    expect(renderPolicyDelta(kernel, ir)).toEqual({ script: "", changes: 0 });
    expect(renderPolicyDelta(policyStateOf(ir), ir)).toEqual({ script: "", changes: 0 });
  });

  test("names and quoted text of valid objects are unchanged", () => {
    for (const n of ["ing/prod/web", "drop/egr/a-b/c.d", "pods4-0123456789ab", "policy-forward"]) {
      expect(nftName(n)).toBe(n);
    }
    expect(nftQuoted("fp=0123 by allow-web,default-deny", 128)).toBe("fp=0123 by allow-web,default-deny");
    expect(nftQuoted('a"b\nc\\d', 128)).toBe("a?b?c?d");
    expect(nftQuoted("x".repeat(300), 126)).toHaveLength(126);
  });

  test("calc names a pod's chain from validated parts only: hostile or long names are hashed", () => {
    expect(podChainName("ingress", "prod", "web")).toBe("ing/prod/web");
    expect(podChainName("egress", "prod", "a\nb")).toMatch(/^egr\/_r\/[0-9a-f]{16}$/);
    expect(podChainName("ingress", 'p"', "web")).toMatch(/^ing\/_r\/[0-9a-f]{16}$/);
    // Long (valid) names: '~' is not an nft identifier character, '_' is.
    const long = podChainName("ingress", "n".repeat(63), "p".repeat(253));
    expect(long).toMatch(/^ing\/n{63}\/p{100}_[0-9a-f]{16}$/);
    expect(nftName(long)).toBe(long);
  });
});
