import { describe, expect, test } from "bun:test";
import { FakeDataplane } from "../../src/dataplane/fake/fake-dataplane.ts";
import { parseUnderlaySelector } from "../../src/model/underlay-selector.ts";
import { underlayContract } from "../contract/underlay-contract.ts";

const NS = "/run/netns/fake-underlay";

underlayContract("fake kernel", async () => {
  const dp = new FakeDataplane();
  dp.addNetns(NS);
  return { dp, netns: NS, cleanup: async () => {} };
});

describe("parseUnderlaySelector", () => {
  test("the four forms", () => {
    expect(parseUnderlaySelector("eth0")).toEqual({ kind: "name", name: "eth0" });
    expect(parseUnderlaySelector("default-route")).toEqual({ kind: "default-route" });
    const i = parseUnderlaySelector("interface=^(ens|eth)[0-9]+$");
    expect(i.kind === "interface" && i.pattern.test("ens5") && !i.pattern.test("tartan0")).toBe(true);
    const c = parseUnderlaySelector("cidr=10.0.0.0/8,fd00::/8");
    expect(c.kind === "cidr" && c.cidrs.map((x) => x.prefix)).toEqual([8, 8]);
  });
  test("bad values say what is wrong", () => {
    for (const [text, msg] of [
      ["", /is not an interface name, interface=REGEX/],
      ["a-name-longer-than-15", /is not an interface name/],
      ["eth0/1", /no space, \/ or :/],
      ["interface=", /needs a regular expression/],
      ["interface=([", /not a regular expression/],
      ["cidr=", /needs one or more CIDRs/],
      ["cidr=10.0.0.0/8,", /needs one or more CIDRs/],
      ["cidr=10.0.0.0", /not in CIDR notation/],
    ] as const) {
      expect(() => parseUnderlaySelector(text)).toThrow(msg);
    }
  });
});
