// CNI DEL and CHECK with fake deps: DEL is idempotent and works without netns or prevResult;
// CHECK passes right after ADD, fails for each thing ADD made that goes missing, and changes nothing.
import { describe, expect, test } from "bun:test";
import { hostVethName } from "../../src/cni/host-veth-name.ts";
import { FakeCni, tartanConf } from "../harness/fake-cni-deps.ts";

type Json = Record<string, unknown>;
const DIR = "/fake/ipam";
const DUAL = { v4: "10.88.0.0/16", v6: "fd88::/64", routes: [{ dst: "0.0.0.0/0" }, { dst: "::/0" }] };
const HOST = hostVethName("net1", "ctr1", "eth0");

async function added(o: Parameters<typeof tartanConf>[0] = {}) {
  const cni = new FakeCni();
  const netns = cni.netns("pod1");
  const conf = tartanConf({ ...DUAL, ...o });
  const out = await cni.invoke({ command: "ADD", netns }, conf);
  expect(out.exitCode).toBe(0);
  const result = out.json!;
  return { cni, netns, conf, result, withPrev: { ...conf, prevResult: result } as Json };
}

describe("DEL (checklist §3 DEL)", () => {
  for (const mode of ["bridge", "routed"] as const) {
    test(`${mode}: DEL undoes ADD — veth (both ends), host routes/neighbours, reservation, record`, async () => {
      const { cni, netns, withPrev } = await added({ mode });
      const out = await cni.invoke({ command: "DEL", netns }, withPrev);
      expect(out.exitCode).toBe(0);
      expect(out.stdout).toBe("");
      expect(await cni.hostVeths()).toEqual([]);
      expect(await cni.linkNames(netns)).toEqual(["lo"]);
      expect((await cni.dp.routes(null, 4)).filter((r) => r.proto === 201)).toEqual([]);
      expect(await cni.dp.neighbours(null)).toEqual([]);
      expect(cni.reservations(DIR, "net1")).toEqual([]);
      expect(cni.attachments(DIR, "net1")).toEqual([]);
    });
  }

  test("DEL twice succeeds (idempotent) and the second one changes nothing", async () => {
    const { cni, netns, withPrev } = await added();
    expect((await cni.invoke({ command: "DEL", netns }, withPrev)).exitCode).toBe(0);
    cni.dp.resetCounters();
    const again = await cni.invoke({ command: "DEL", netns }, withPrev);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe("");
    expect(cni.dp.writes).toBe(0);
  });

  test("DEL when the netns is already gone still releases the address and the record", async () => {
    const { cni, netns, withPrev } = await added();
    cni.dp.removeNetns(netns);
    const out = await cni.invoke({ command: "DEL", netns }, withPrev);
    expect(out.exitCode).toBe(0);
    expect(cni.reservations(DIR, "net1")).toEqual([]);
    expect(cni.attachments(DIR, "net1")).toEqual([]);
    expect(await cni.hostVeths()).toEqual([]);
  });

  test("DEL with CNI_NETNS empty (runtime lost the netns) removes the host veth and releases", async () => {
    const { cni, withPrev } = await added();
    const out = await cni.invoke({ command: "DEL", netns: "" }, withPrev);
    expect(out.exitCode).toBe(0);
    expect(await cni.hostVeths()).toEqual([]);
    expect(cni.reservations(DIR, "net1")).toEqual([]);
  });

  test("DEL without prevResult (result cache lost) still undoes everything", async () => {
    const { cni, netns, conf } = await added({ mode: "routed" });
    const out = await cni.invoke({ command: "DEL", netns }, conf);
    expect(out.exitCode).toBe(0);
    expect(await cni.hostVeths()).toEqual([]);
    expect((await cni.dp.routes(null, 6)).filter((r) => r.proto === 201)).toEqual([]);
    expect(cni.reservations(DIR, "net1")).toEqual([]);
  });

  test("DEL of an attachment that was never added succeeds and touches nothing", async () => {
    const cni = new FakeCni();
    const out = await cni.invoke({ command: "DEL", netns: "/run/netns/never" }, tartanConf());
    expect(out.exitCode).toBe(0);
    expect(cni.dp.writes).toBe(0);
  });

  test("DEL after a failed ADD (half-created state) succeeds", async () => {
    const cni = new FakeCni();
    const netns = cni.netns("pod1");
    cni.dp.failNext((op, ns) => ns === netns && op.op === "route-add");
    expect((await cni.invoke({ command: "ADD", netns }, tartanConf())).exitCode).not.toBe(0);
    expect((await cni.invoke({ command: "DEL", netns }, tartanConf())).exitCode).toBe(0);
  });

  test("DEL of one pod leaves the other pods of the network alone", async () => {
    const { cni, netns, withPrev } = await added();
    const ns2 = cni.netns("pod2");
    expect(
      (await cni.invoke({ command: "ADD", netns: ns2, containerId: "ctr2" }, tartanConf(DUAL))).exitCode,
    ).toBe(0);
    await cni.invoke({ command: "DEL", netns }, withPrev);
    expect(cni.attachments(DIR, "net1")).toEqual(["ctr2/eth0"]);
    expect(await cni.hostVeths()).toEqual([hostVethName("net1", "ctr2", "eth0")]);
    expect(await cni.linkNames(ns2)).toEqual(["lo", "eth0"]);
  });

  test("a kernel failure on DEL while the veth still exists is reported (not swallowed)", async () => {
    const { cni, netns, withPrev } = await added();
    cni.dp.failNext((op) => op.op === "link-del", "Operation not permitted");
    const out = await cni.invoke({ command: "DEL", netns }, withPrev);
    expect(out.exitCode).not.toBe(0);
    expect(String(out.json!.msg)).toContain("Operation not permitted");
    // The runtime retries DEL: it then succeeds.
    expect((await cni.invoke({ command: "DEL", netns }, withPrev)).exitCode).toBe(0);
    expect(await cni.hostVeths()).toEqual([]);
  });
});

describe("CHECK (checklist §3 CHECK)", () => {
  for (const mode of ["bridge", "routed"] as const) {
    for (const version of ["0.4.0", "1.0.0", "1.1.0"]) {
      test(`${mode} ${version}: CHECK right after ADD passes with no output`, async () => {
        const { cni, netns, withPrev } = await added({ mode, version, ipMasq: true });
        const out = await cni.invoke({ command: "CHECK", netns }, withPrev);
        expect(out.stdout).toBe("");
        expect(out.exitCode).toBe(0);
      });
    }
  }

  test("a second CHECK changes nothing: no kernel, nft or marker writes", async () => {
    const { cni, netns, withPrev } = await added({ mode: "routed", ipMasq: true });
    expect((await cni.invoke({ command: "CHECK", netns }, withPrev)).exitCode).toBe(0);
    cni.dp.resetCounters();
    const scripts = cni.nft.scripts.length;
    const markers = cni.markerWrites;
    expect((await cni.invoke({ command: "CHECK", netns }, withPrev)).exitCode).toBe(0);
    expect(cni.dp.writes).toBe(0);
    expect(cni.dp.applyCalls).toBe(0);
    expect(cni.nft.scripts.length).toBe(scripts);
    expect(cni.markerWrites).toBe(markers);
  });

  test("CHECK tolerates later chained plugins' additions (extra interface, ips, routes in prevResult)", async () => {
    const { cni, netns, result, conf } = await added();
    const prev = {
      ...result,
      interfaces: [...(result.interfaces as Json[]), { name: "dummy9" }],
      routes: [...(result.routes as Json[])],
    };
    await cni.dp.apply(netns, [{ op: "addr-add", dev: "eth0", cidr: "10.200.0.1/32" }]);
    const out = await cni.invoke({ command: "CHECK", netns }, { ...conf, prevResult: prev });
    expect(out.exitCode).toBe(0);
  });

  const breakages: [string, (cni: FakeCni, netns: string, mode: string) => Promise<void>, RegExp][] = [
    [
      "the pod interface is removed",
      async (cni, netns) => cni.dp.apply(netns, [{ op: "link-del", name: "eth0" }]),
      /interface eth0 is missing/,
    ],
    [
      "the pod interface is down",
      async (cni, netns) => cni.dp.apply(netns, [{ op: "link-set", name: "eth0", up: false }]),
      /eth0 is down/,
    ],
    [
      "the pod IPv6 address is removed",
      async (cni, netns) => {
        const a = (await cni.dp.addrs(netns, "eth0")).find((x) => x.family === 6)!;
        await cni.dp.apply(netns, [{ op: "addr-del", dev: "eth0", cidr: a.cidr }]);
      },
      /address fd88::2\/\d+ is missing/,
    ],
    [
      "the pod default route is removed",
      async (cni, netns) => cni.dp.apply(netns, [{ op: "route-del", dst: "default", family: 4 }]),
      /route to 0\.0\.0\.0\/0 is missing/,
    ],
    [
      "the host veth is removed",
      async (cni) => cni.dp.apply(null, [{ op: "link-del", name: HOST }]),
      /missing/,
    ],
    [
      "the host side lost its wiring (bridge port / host route)",
      async (cni, _netns, mode) =>
        mode === "bridge"
          ? cni.dp.apply(null, [{ op: "link-set", name: HOST, master: null }])
          : cni.dp.apply(null, [{ op: "route-del", dst: "10.88.0.2/32", family: 4, dev: HOST }]),
      /not a port of bridge tartan0|host route to 10\.88\.0\.2\/32/,
    ],
    [
      "the IP reservation is lost",
      async (cni) => {
        cni.store(DIR).transaction((tx) => tx.release("net1", "ctr1", "eth0"));
      },
      /no address is reserved/,
    ],
    [
      "the ipMasq chain is gone",
      async (cni) => cni.nft.apply(null, "delete chain inet tartan masq-net1\n"),
      /ipMasq chain/,
    ],
  ];
  for (const mode of ["bridge", "routed"] as const) {
    for (const [what, breakIt, msg] of breakages) {
      test(`${mode}: CHECK fails when ${what}`, async () => {
        const { cni, netns, withPrev } = await added({ mode, ipMasq: true });
        await breakIt(cni, netns, mode);
        const out = await cni.invoke({ command: "CHECK", netns }, withPrev);
        expect(out.exitCode).not.toBe(0);
        expect(out.json!.code).toBe(104);
        expect(String(out.json!.msg)).toMatch(msg);
      });
    }
  }

  test("CHECK fails when the MAC of the pod interface changed", async () => {
    const { cni, netns, result, conf } = await added();
    const prev = structuredClone(result);
    (prev.interfaces as Json[]).find((i) => i.name === "eth0")!.mac = "02:de:ad:be:ef:00";
    const out = await cni.invoke({ command: "CHECK", netns }, { ...conf, prevResult: prev });
    expect(out.json!.code).toBe(104);
    expect(String(out.json!.msg)).toContain("MAC");
  });

  test("CHECK without prevResult → 7", async () => {
    const { cni, netns, conf } = await added();
    const out = await cni.invoke({ command: "CHECK", netns }, conf);
    expect(out.json!.code).toBe(7);
    expect(String(out.json!.msg)).toContain("prevResult");
  });

  test("CHECK for a netns that does not exist → 3", async () => {
    const { cni, withPrev } = await added();
    const out = await cni.invoke({ command: "CHECK", netns: "/run/netns/other" }, withPrev);
    expect(out.json!.code).toBe(3);
  });

  test("CHECK with a 0.4.0 prevResult (ips[].version present) parses it in the request's version", async () => {
    const { cni, netns, withPrev } = await added({ version: "0.4.0" });
    expect(((withPrev.prevResult as Json).ips as Json[])[0]!.version).toBe("4");
    expect((await cni.invoke({ command: "CHECK", netns }, withPrev)).exitCode).toBe(0);
  });

  test("CHECK of another container's attachment (not in prevResult) fails", async () => {
    const { cni, netns, withPrev } = await added();
    const out = await cni.invoke({ command: "CHECK", netns, ifname: "eth1" }, withPrev);
    expect(out.exitCode).not.toBe(0);
    expect(String(out.json!.msg)).toContain("eth1");
  });
});
