// The process contract of the tartan plugin with fake deps (no root): environment validation
// (code 4 naming the variables), stdin decoding (6), version negotiation (1) and config
// validation (7, message with key and value). Checklist §0, §1, §2, §7, §8.
import { describe, expect, test } from "bun:test";
import { SUPPORTED_CNI_VERSIONS } from "../../src/model/cni-version.ts";
import { FakeCni, tartanConf } from "../harness/fake-cni-deps.ts";

function setup() {
  const cni = new FakeCni();
  const netns = cni.netns("pod1");
  return { cni, netns };
}

function expectError(out: { exitCode: number; json: Record<string, unknown> | undefined }, code: number) {
  expect(out.exitCode).not.toBe(0);
  expect(out.json).toBeDefined();
  expect(out.json!.code).toBe(code);
  expect(typeof out.json!.msg).toBe("string");
  expect(Object.keys(out.json!).sort()).toEqual(["cniVersion", "code", "details", "msg"]);
  return String(out.json!.msg);
}

describe("CNI env validation (checklist §1: missing/invalid → error code 4 naming the variables)", () => {
  test("missing CNI_COMMAND → 4 naming CNI_COMMAND", async () => {
    const { cni } = setup();
    const out = await cni.invoke({ command: "ADD", env: { CNI_COMMAND: undefined } }, tartanConf());
    expect(expectError(out, 4)).toContain("CNI_COMMAND");
  });

  test("unknown CNI_COMMAND → 4", async () => {
    const { cni } = setup();
    const out = await cni.invoke({ command: "ADD", env: { CNI_COMMAND: "FROB" } }, tartanConf());
    expect(expectError(out, 4)).toContain("FROB");
  });

  test("ADD without CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME → 4 naming all three", async () => {
    const { cni } = setup();
    const out = await cni.invoke(
      { command: "ADD", env: { CNI_CONTAINERID: undefined, CNI_NETNS: undefined, CNI_IFNAME: undefined } },
      tartanConf(),
    );
    const msg = expectError(out, 4);
    for (const v of ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"]) expect(msg).toContain(v);
    expect(cni.dp.writes).toBe(0);
  });

  test("CHECK without CNI_NETNS → 4 naming it; DEL with empty CNI_NETNS is accepted (optional for DEL)", async () => {
    const { cni } = setup();
    const check = await cni.invoke({ command: "CHECK", netns: "" }, tartanConf());
    expect(expectError(check, 4)).toContain("CNI_NETNS");
    const del = await cni.invoke({ command: "DEL", netns: "" }, tartanConf());
    expect(del.exitCode).toBe(0);
    expect(del.stdout).toBe("");
  });

  test("GC without CNI_PATH → 4 naming CNI_PATH (required for GC)", async () => {
    const { cni } = setup();
    const conf = { ...tartanConf(), "cni.dev/valid-attachments": [] };
    const out = await cni.invoke({ command: "GC", env: { CNI_PATH: undefined } }, conf);
    expect(expectError(out, 4)).toContain("CNI_PATH");
  });

  test("STATUS and VERSION need no container variables (only CNI_COMMAND)", async () => {
    const { cni } = setup();
    const status = await cni.invoke({ command: "STATUS", env: { CNI_PATH: undefined } }, tartanConf());
    expect(status.exitCode).toBe(0);
    const version = await cni.invoke({ command: "VERSION", env: { CNI_PATH: undefined } }, "");
    expect(version.exitCode).toBe(0);
  });

  const badIfnames: [string, string][] = [
    ["too long (16 chars)", "abcdefghijklmnop"],
    ["with '/'", "eth/0"],
    ["'.'", "."],
    ["'..'", ".."],
    ["with ':'", "eth0:1"],
    ["with a space", "eth 0"],
  ];
  for (const [what, name] of badIfnames) {
    test(`CNI_IFNAME ${what} → 4 naming CNI_IFNAME, nothing created`, async () => {
      const { cni, netns } = setup();
      const out = await cni.invoke({ command: "ADD", netns, ifname: name }, tartanConf());
      expect(expectError(out, 4)).toContain("CNI_IFNAME");
      expect(cni.dp.writes).toBe(0);
      expect(cni.reservations("/fake/ipam", "net1")).toEqual([]);
    });
  }

  test("CNI_IFNAME of exactly 15 characters is accepted", async () => {
    const { cni, netns } = setup();
    const out = await cni.invoke({ command: "ADD", netns, ifname: "abcdefghijklmno" }, tartanConf());
    expect(out.exitCode).toBe(0);
    expect(await cni.linkNames(netns)).toContain("abcdefghijklmno");
  });

  test("CNI_CONTAINERID outside [A-Za-z0-9][A-Za-z0-9_.-]* → 4", async () => {
    const { cni, netns } = setup();
    for (const id of ["-abc", "a/b", "a b"]) {
      const out = await cni.invoke({ command: "ADD", netns, containerId: id }, tartanConf());
      expect(expectError(out, 4)).toContain("CNI_CONTAINERID");
    }
  });

  test("CNI_NETNS that is not an absolute path → 4", async () => {
    const { cni } = setup();
    const out = await cni.invoke({ command: "ADD", netns: "run/netns/x" }, tartanConf());
    expect(expectError(out, 4)).toContain("CNI_NETNS");
  });

  test("Kubernetes CNI_ARGS with IgnoreUnknown and unknown keys are accepted (checklist §1)", async () => {
    const { cni, netns } = setup();
    const out = await cni.invoke(
      {
        command: "ADD",
        netns,
        cniArgs:
          "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=ctr1;K8S_POD_UID=u-1;FOO=bar",
      },
      tartanConf(),
    );
    expect(out.exitCode).toBe(0);
  });

  test("CNI_ARGS pair without '=' → 4 naming CNI_ARGS", async () => {
    const { cni, netns } = setup();
    const out = await cni.invoke({ command: "ADD", netns, cniArgs: "IgnoreUnknown=1;garbage" }, tartanConf());
    expect(expectError(out, 4)).toContain("CNI_ARGS");
  });
});

describe("stdin decoding and version negotiation (checklist §7 codes 1 and 6, §8)", () => {
  test("bad JSON on stdin → 6, and the error is JSON on stdout", async () => {
    const { cni, netns } = setup();
    const out = await cni.invoke({ command: "ADD", netns }, '{"cniVersion": "1.1.0", "name": ');
    expect(expectError(out, 6)).toMatch(/not valid JSON/);
  });

  test("empty stdin for ADD → 6", async () => {
    const { cni, netns } = setup();
    expectError(await cni.invoke({ command: "ADD", netns }, ""), 6);
  });

  test("cniVersion that is not a version string → 6", async () => {
    const { cni, netns } = setup();
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf({ version: "one.two" }));
    expect(expectError(out, 6)).toContain("one.two");
  });

  for (const v of ["0.1.0", "0.2.0", "1.2.0", "2.0.0"]) {
    test(`unsupported cniVersion ${v} → 1 listing the supported versions`, async () => {
      const { cni, netns } = setup();
      const out = await cni.invoke({ command: "ADD", netns }, tartanConf({ version: v }));
      const msg = expectError(out, 1);
      expect(msg).toContain(v);
      expect(msg).toContain("1.1.0");
      expect(out.json!.cniVersion).toBe(v);
      expect(cni.dp.writes).toBe(0);
    });
  }

  for (const v of ["0.3.0", "0.3.1"]) {
    test(`CHECK with cniVersion ${v} → 1 (CHECK needs ≥ 0.4.0)`, async () => {
      const { cni, netns } = setup();
      const out = await cni.invoke({ command: "CHECK", netns }, tartanConf({ version: v }));
      expectError(out, 1);
    });
  }

  for (const v of ["0.4.0", "1.0.0"]) {
    test(`GC and STATUS with cniVersion ${v} → 1 (need 1.1.0)`, async () => {
      const { cni } = setup();
      const gc = await cni.invoke(
        { command: "GC" },
        { ...tartanConf({ version: v }), "cni.dev/valid-attachments": [] },
      );
      expectError(gc, 1);
      expectError(await cni.invoke({ command: "STATUS" }, tartanConf({ version: v })), 1);
    });
  }

  test("every supported version is accepted for ADD", async () => {
    const { cni } = setup();
    for (const [i, v] of SUPPORTED_CNI_VERSIONS.entries()) {
      const netns = cni.netns(`v${i}`);
      const out = await cni.invoke(
        { command: "ADD", netns, containerId: `c${i}` },
        tartanConf({ version: v }),
      );
      expect(out.exitCode).toBe(0);
      expect(out.json!.cniVersion).toBe(v);
    }
  });
});

describe("network config validation → 7 with key and value (checklist §2, §7)", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["bad mode", { mode: "switch" }, ["mode", "switch"]],
    ["mtu too large", { mtu: 70000 }, ["mtu", "70000"]],
    ["mtu not a number", { mtu: "big" }, ["mtu", "big"]],
    ["mtu fractional", { mtu: 1400.5 }, ["mtu", "1400.5"]],
    ["bridge name too long", { bridge: "averyveryverylongbridge" }, ["bridge", "averyveryverylongbridge"]],
    ["network name with '/'", { name: "bad/name" }, ["name", "bad/name"]],
    ["type with '/'", { type: "../tartan" }, ["type", "../tartan"]],
    ["ipMasq not a bool", { ipMasq: "yes" }, ["ipMasq", "yes"]],
    ["runtimeConfig.mac malformed", { runtimeConfig: { mac: "zz:11" } }, ["runtimeConfig.mac", "zz:11"]],
  ];
  for (const [what, patch, words] of cases) {
    test(`${what} → 7 naming ${words.join(" and ")}`, async () => {
      const { cni, netns } = setup();
      const out = await cni.invoke({ command: "ADD", netns }, { ...tartanConf(), ...patch });
      const msg = expectError(out, 7);
      for (const w of words) expect(msg).toContain(w);
      expect(cni.dp.writes).toBe(0);
    });
  }

  test("bad CIDR in ipam.ranges → 7 naming the subnet field and value", async () => {
    const { cni, netns } = setup();
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf({ v4: "10.88.0.0/33" }));
    const msg = expectError(out, 7);
    expect(msg).toContain("subnet");
    expect(msg).toContain("10.88.0.0/33");
    expect(cni.dp.writes).toBe(0);
  });

  test("bad ipam.routes dst → 7 naming the field and value", async () => {
    const { cni, netns } = setup();
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf({ routes: [{ dst: "10.0.0.0/99" }] }));
    const msg = expectError(out, 7);
    expect(msg).toContain("ipam.routes[0]");
    expect(msg).toContain("10.0.0.0/99");
    expect(cni.reservations("/fake/ipam", "net1")).toEqual([]);
    expect(cni.attachments("/fake/ipam", "net1")).toEqual([]);
  });

  test("missing ipam → 7 naming ipam.type", async () => {
    const { cni, netns } = setup();
    const { ipam: _ipam, ...conf } = tartanConf();
    expect(expectError(await cni.invoke({ command: "ADD", netns }, conf), 7)).toContain("ipam.type");
  });

  test("missing name → 7", async () => {
    const { cni, netns } = setup();
    const { name: _n, ...conf } = tartanConf();
    expect(expectError(await cni.invoke({ command: "ADD", netns }, conf), 7)).toContain("name");
  });

  test("unknown top-level keys and args are tolerated (checklist §2)", async () => {
    const { cni, netns } = setup();
    const out = await cni.invoke(
      { command: "ADD", netns },
      {
        ...tartanConf(),
        someVendorKey: { x: 1 },
        args: { cni: { labels: [{ key: "a", value: "b" }] }, other: 1 },
      },
    );
    expect(out.exitCode).toBe(0);
  });
});

describe("stdout carries only the result or the error (checklist §0)", () => {
  test("failures are logged through deps.log, stdout is exactly the error JSON", async () => {
    const { cni, netns } = setup();
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf({ version: "9.9.9" }));
    expect(() => JSON.parse(out.stdout)).not.toThrow();
    expect(cni.logs.some((l) => l.level === "error" && l.msg.includes("9.9.9"))).toBe(true);
  });

  test("success: exit 0 and a single JSON document on stdout", async () => {
    const { cni, netns } = setup();
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf());
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout).cniVersion).toBe("1.1.0");
  });
});
