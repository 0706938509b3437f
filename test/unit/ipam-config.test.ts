import { describe, expect, test } from "bun:test";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { rangeCapacity } from "../../src/ipam/ip-range.ts";
import { parseIpamConfig } from "../../src/ipam/ipam-config.ts";
import { formatIp } from "../../src/model/ip.ts";

const conf = (ranges: unknown, extra: Record<string, unknown> = {}) => ({
  cniVersion: "1.1.0",
  name: "podnet",
  type: "tartan",
  ipam: { type: "tartan-ipam", ranges },
  ...extra,
});

function configError(netconf: unknown): TartanError {
  try {
    parseIpamConfig(netconf);
  } catch (e) {
    if (e instanceof TartanError) return e;
    throw e;
  }
  throw new Error("expected a config error");
}

describe("parseIpamConfig defaults", () => {
  test("IPv4: gateway and start = network+1, end = broadcast-1", () => {
    const c = parseIpamConfig(conf([[{ subnet: "10.88.0.0/16" }]]));
    const r = c.rangeSets[0]!.ranges[0]!;
    expect(c.network).toBe("podnet");
    expect(formatIp(r.gateway)).toBe("10.88.0.1");
    expect(formatIp(r.start)).toBe("10.88.0.1");
    expect(formatIp(r.end)).toBe("10.88.255.254");
    expect(r.key).toBe("10.88.0.0/16");
    expect(rangeCapacity(r)).toBe(65533n);
  });

  test("IPv6: end is the last address (no broadcast)", () => {
    const r = parseIpamConfig(conf([[{ subnet: "fd00:10::/120" }]])).rangeSets[0]!.ranges[0]!;
    expect(formatIp(r.gateway)).toBe("fd00:10::1");
    expect(formatIp(r.end)).toBe("fd00:10::ff");
    expect(rangeCapacity(r)).toBe(254n);
  });

  test("explicit bounds and gateway are kept and named in the range key", () => {
    const r = parseIpamConfig(
      conf([
        [{ subnet: "10.1.0.0/24", rangeStart: "10.1.0.10", rangeEnd: "10.1.0.20", gateway: "10.1.0.254" }],
      ]),
    ).rangeSets[0]!.ranges[0]!;
    expect(formatIp(r.gateway)).toBe("10.1.0.254");
    expect(r.key).toBe("10.1.0.0/24[10.1.0.10-10.1.0.20]");
    expect(rangeCapacity(r)).toBe(11n);
  });

  test("runtimeConfig.ipRanges and the legacy ipam.subnet come before ipam.ranges", () => {
    const c = parseIpamConfig({
      name: "n",
      ipam: { subnet: "10.2.0.0/24", ranges: [[{ subnet: "10.3.0.0/24" }]] },
      runtimeConfig: { ipRanges: [[{ subnet: "10.1.0.0/24" }]] },
    });
    expect(c.rangeSets.map((s) => s.ranges[0]!.subnet)).toEqual([
      "10.1.0.0/24",
      "10.2.0.0/24",
      "10.3.0.0/24",
    ]);
    expect(c.rangeSets.map((s) => s.index)).toEqual([0, 1, 2]);
  });

  test("requested ips come from runtimeConfig.ips, args.cni.ips and CNI_ARGS, deduplicated, prefix ignored", () => {
    const c = parseIpamConfig(
      conf([[{ subnet: "10.1.0.0/24" }], [{ subnet: "fd00::/64" }]], {
        runtimeConfig: { ips: ["10.1.0.7/24"] },
        args: { cni: { ips: ["10.1.0.7", "fd00::7"] } },
      }),
      ["fd00::0:7"],
    );
    expect(c.requestedIps.map(formatIp)).toEqual(["10.1.0.7", "fd00::7"]);
    expect(c.dataDir).toBeUndefined();
  });
});

describe("parseIpamConfig validation names the field and the reason", () => {
  const cases: [string, unknown, string, RegExp][] = [
    ["no ranges", conf([]), "ipam.ranges", /no address ranges/],
    ["missing subnet", conf([[{}]]), "ipam.ranges[0][0].subnet", /required/],
    ["bad subnet", conf([[{ subnet: "10.1.0.0/33" }]]), "ipam.ranges[0][0].subnet", /prefix/],
    ["host bits", conf([[{ subnet: "10.1.0.5/24" }]]), "ipam.ranges[0][0].subnet", /host bits.*10\.1\.0\.0/],
    ["/31 too small", conf([[{ subnet: "10.1.0.0/31" }]]), "ipam.ranges[0][0].subnet", /too small/],
    ["/127 too small", conf([[{ subnet: "fd00::/127" }]]), "ipam.ranges[0][0].subnet", /too small/],
    [
      "start outside subnet",
      conf([[{ subnet: "10.1.0.0/24", rangeStart: "10.1.1.1" }]]),
      "ipam.ranges[0][0].rangeStart",
      /not inside subnet 10\.1\.0\.0\/24/,
    ],
    [
      "end outside subnet",
      conf([[{ subnet: "10.1.0.0/24", rangeEnd: "10.2.0.1" }]]),
      "ipam.ranges[0][0].rangeEnd",
      /not inside/,
    ],
    [
      "gateway outside subnet",
      conf([[{ subnet: "10.1.0.0/24", gateway: "10.9.0.1" }]]),
      "ipam.ranges[0][0].gateway",
      /not inside/,
    ],
    [
      "start after end",
      conf([[{ subnet: "10.1.0.0/24", rangeStart: "10.1.0.9", rangeEnd: "10.1.0.3" }]]),
      "ipam.ranges[0][0].rangeStart",
      /comes after rangeEnd/,
    ],
    [
      "range holding only the gateway",
      conf([[{ subnet: "10.1.0.0/24", rangeStart: "10.1.0.1", rangeEnd: "10.1.0.1" }]]),
      "ipam.ranges[0][0]",
      /nothing to hand out/,
    ],
    [
      "mixed families in one set",
      conf([[{ subnet: "10.1.0.0/24" }, { subnet: "fd00::/64" }]]),
      "ipam.ranges[0][1].subnet",
      /IPv6 but .* IPv4/,
    ],
    [
      "overlap inside a set",
      conf([[{ subnet: "10.1.0.0/24" }, { subnet: "10.1.0.0/25" }]]),
      "ipam.ranges[0][1]",
      /overlaps ipam.ranges\[0\]\[0\]/,
    ],
    [
      "overlap across sets",
      conf([[{ subnet: "10.1.0.0/16" }], [{ subnet: "10.1.2.0/24" }]]),
      "ipam.ranges[1]",
      /overlaps range 10\.1\.0\.0\/16/,
    ],
    ["ranges not a list", conf({ subnet: "10.1.0.0/24" }), "ipam.ranges", /list/],
    ["set not a list", conf([{ subnet: "10.1.0.0/24" }]), "ipam.ranges[0]", /non-empty list/],
    ["no name", { ipam: { ranges: [[{ subnet: "10.1.0.0/24" }]] } }, "name", /required/],
    [
      "bad requested ip",
      conf([[{ subnet: "10.1.0.0/24" }]], { runtimeConfig: { ips: ["10.1.0.300"] } }),
      "runtimeConfig.ips[0]",
      /not an IPv4 or IPv6/,
    ],
  ];
  for (const [name, netconf, field, reason] of cases) {
    test(name, () => {
      const err = configError(netconf);
      expect(err.code).toBe("ipam-config-invalid");
      expect(err.message.startsWith(`${field}: `)).toBe(true);
      expect(err.message).toMatch(reason);
      expect(err.hint).toBeTruthy();
    });
  }

  test("non-overlapping ranges of the same subnet may share a set", () => {
    const c = parseIpamConfig(
      conf([
        [
          { subnet: "10.1.0.0/24", rangeStart: "10.1.0.10", rangeEnd: "10.1.0.19" },
          { subnet: "10.1.0.0/24", rangeStart: "10.1.0.20", rangeEnd: "10.1.0.29" },
        ],
      ]),
    );
    expect(c.rangeSets[0]!.ranges).toHaveLength(2);
  });
});
