// CNI GC, STATUS, VERSION and the ipMasq chain's life cycle, with fake deps.
import { describe, expect, test } from "bun:test";
import { hostVethName } from "../../src/cni/host-veth-name.ts";
import { SUPPORTED_CNI_VERSIONS } from "../../src/model/cni-version.ts";
import { FakeCni, tartanConf } from "../harness/fake-cni-deps.ts";

const DIR = "/fake/ipam";

async function addPods(
  cni: FakeCni,
  network: string,
  ids: string[],
  o: Parameters<typeof tartanConf>[0] = {},
) {
  for (const id of ids) {
    const netns = cni.netns(`${network}-${id}`);
    const out = await cni.invoke(
      { command: "ADD", netns, containerId: id },
      tartanConf({ name: network, ...o }),
    );
    expect(out.exitCode).toBe(0);
  }
}

const gcConf = (network: string, valid: { containerID: string; ifname: string }[], o = {}) => ({
  ...tartanConf({ name: network, ...o }),
  "cni.dev/valid-attachments": valid,
});

describe("GC (checklist §3 GC)", () => {
  test("removes only attachments of this network that are not in valid-attachments", async () => {
    const cni = new FakeCni();
    await addPods(cni, "net1", ["a", "b", "c"]);
    await addPods(cni, "net2", ["x"], { v4: "10.77.0.0/16" });
    const out = await cni.invoke({ command: "GC" }, gcConf("net1", [{ containerID: "a", ifname: "eth0" }]));
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe("");
    expect(cni.attachments(DIR, "net1")).toEqual(["a/eth0"]);
    expect(cni.reservations(DIR, "net1")).toEqual(["10.88.0.2 a/eth0"]);
    expect((await cni.hostVeths()).sort()).toEqual(
      [hostVethName("net1", "a", "eth0"), hostVethName("net2", "x", "eth0")].sort(),
    );
    // The other network is untouched.
    expect(cni.attachments(DIR, "net2")).toEqual(["x/eth0"]);
    expect(cni.reservations(DIR, "net2")).toEqual(["10.77.0.2 x/eth0"]);
    expect(await cni.linkNames("/run/netns/net2-x")).toEqual(["lo", "eth0"]);
  });

  test("an attachment kept by (containerID, ifname): same container with another ifname is removed", async () => {
    const cni = new FakeCni();
    const netns = cni.netns("p");
    const conf = tartanConf({ routes: [] });
    await cni.invoke({ command: "ADD", netns, containerId: "a", ifname: "eth0" }, conf);
    await cni.invoke({ command: "ADD", netns, containerId: "a", ifname: "eth1" }, conf);
    await cni.invoke(
      { command: "GC" },
      gcConf("net1", [{ containerID: "a", ifname: "eth0" }], { routes: [] }),
    );
    expect(cni.attachments(DIR, "net1")).toEqual(["a/eth0"]);
    expect(await cni.linkNames(netns)).toEqual(["lo", "eth0"]);
  });

  test("accepts the legacy cni.dev/attachments key alone", async () => {
    const cni = new FakeCni();
    await addPods(cni, "net1", ["a", "b"]);
    const conf = { ...tartanConf(), "cni.dev/attachments": [{ containerID: "b", ifname: "eth0" }] };
    expect((await cni.invoke({ command: "GC" }, conf)).exitCode).toBe(0);
    expect(cni.attachments(DIR, "net1")).toEqual(["b/eth0"]);
  });

  test("stale attachments whose netns is already gone are removed (MAY assume the netns is gone)", async () => {
    const cni = new FakeCni();
    await addPods(cni, "net1", ["a", "b"], { mode: "routed" });
    cni.dp.removeNetns("/run/netns/net1-b");
    expect(
      (await cni.invoke({ command: "GC" }, gcConf("net1", [{ containerID: "a", ifname: "eth0" }]))).exitCode,
    ).toBe(0);
    expect(cni.reservations(DIR, "net1")).toEqual(["10.88.0.2 a/eth0"]);
  });

  test("releases reservations without an attachment record (leaks) too", async () => {
    const cni = new FakeCni();
    await addPods(cni, "net1", ["a"]);
    cni.store(DIR).transaction((tx) =>
      tx.reserve({
        network: "net1",
        ip: "10.88.9.9",
        containerId: "ghost",
        ifname: "eth0",
        rangeKey: "10.88.0.0/16",
      }),
    );
    await cni.invoke({ command: "GC" }, gcConf("net1", [{ containerID: "a", ifname: "eth0" }]));
    expect(cni.reservations(DIR, "net1")).toEqual(["10.88.0.2 a/eth0"]);
  });

  test("continues after an error, removes the rest and reports the error", async () => {
    const cni = new FakeCni();
    await addPods(cni, "net1", ["a", "b", "c"]);
    const bVeth = hostVethName("net1", "b", "eth0");
    cni.dp.failNext((op) => op.op === "link-del" && op.name === bVeth, "Device or resource busy");
    const out = await cni.invoke({ command: "GC" }, gcConf("net1", []));
    expect(out.exitCode).not.toBe(0);
    expect(String(out.json!.msg)).toContain("Device or resource busy");
    expect(await cni.hostVeths()).toEqual([bVeth]);
    expect(cni.reservations(DIR, "net1")).toEqual([]);
  });

  test("without valid-attachments → 7 and nothing removed", async () => {
    const cni = new FakeCni();
    await addPods(cni, "net1", ["a"]);
    const out = await cni.invoke({ command: "GC" }, tartanConf());
    expect(out.json!.code).toBe(7);
    expect(cni.attachments(DIR, "net1")).toEqual(["a/eth0"]);
  });

  test("removes the network's ipMasq chain with its last attachment, keeps other networks' chains", async () => {
    const cni = new FakeCni();
    await addPods(cni, "net1", ["a"], { ipMasq: true });
    await addPods(cni, "net2", ["x"], { ipMasq: true, v4: "10.77.0.0/16" });
    await cni.invoke({ command: "GC" }, gcConf("net1", [], { ipMasq: true }));
    const listing = (await cni.nft.list(null, "inet", "tartan"))!;
    expect(listing).not.toContain("masq-net1");
    expect(listing).toContain("masq-net2");
    await cni.invoke({ command: "GC" }, gcConf("net2", [], { ipMasq: true, v4: "10.77.0.0/16" }));
    expect(await cni.nft.list(null, "inet", "tartan")).toBeUndefined();
  });

  test("a second GC with the same list changes nothing", async () => {
    const cni = new FakeCni();
    await addPods(cni, "net1", ["a", "b"]);
    const conf = gcConf("net1", [{ containerID: "a", ifname: "eth0" }]);
    await cni.invoke({ command: "GC" }, conf);
    cni.dp.resetCounters();
    expect((await cni.invoke({ command: "GC" }, conf)).exitCode).toBe(0);
    expect(cni.dp.writes).toBe(0);
    expect(cni.attachments(DIR, "net1")).toEqual(["a/eth0"]);
  });
});

describe("STATUS (checklist §3 STATUS)", () => {
  test("exit 0 and no output while addresses are free", async () => {
    const cni = new FakeCni();
    const out = await cni.invoke({ command: "STATUS" }, tartanConf({ v4: "10.99.0.0/30" }));
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe("");
  });

  test("50 when the range is exhausted; ADD/DEL keep working after a failing STATUS", async () => {
    const cni = new FakeCni();
    const conf = tartanConf({ v4: "10.99.0.0/30" });
    const netns = cni.netns("p1");
    expect((await cni.invoke({ command: "ADD", netns }, conf)).exitCode).toBe(0);
    const out = await cni.invoke({ command: "STATUS" }, conf);
    expect(out.exitCode).not.toBe(0);
    expect(out.json!.code).toBe(50);
    expect(String(out.json!.msg)).toContain("no free");
    expect((await cni.invoke({ command: "DEL", netns }, conf)).exitCode).toBe(0);
    expect((await cni.invoke({ command: "STATUS" }, conf)).exitCode).toBe(0);
    expect((await cni.invoke({ command: "ADD", netns }, conf)).exitCode).toBe(0);
  });

  test("50 when one family of a dual-stack network is exhausted", async () => {
    const cni = new FakeCni();
    const conf = tartanConf({ v4: "10.99.0.0/30", v6: "fd99::/64", routes: [] });
    await cni.invoke({ command: "ADD", netns: cni.netns("p1") }, conf);
    expect((await cni.invoke({ command: "STATUS" }, conf)).json!.code).toBe(50);
  });

  test("50 when the state store cannot be opened", async () => {
    const cni = new FakeCni();
    cni.storeFailure = new Error("unable to open database file");
    const out = await cni.invoke({ command: "STATUS" }, tartanConf());
    expect(out.json!.code).toBe(50);
    expect(String(out.json!.msg)).toContain("unable to open database file");
  });

  test("STATUS changes nothing", async () => {
    const cni = new FakeCni();
    await cni.invoke({ command: "STATUS" }, tartanConf());
    expect(cni.dp.writes).toBe(0);
    expect(cni.nft.scripts).toEqual([]);
    expect(cni.reservations(DIR, "net1")).toEqual([]);
  });
});

describe("VERSION (checklist §3 VERSION)", () => {
  test("empty stdin → cniVersion and the supported versions", async () => {
    const cni = new FakeCni();
    const out = await cni.invoke({ command: "VERSION", env: { CNI_PATH: undefined } }, "");
    expect(out.exitCode).toBe(0);
    expect(out.json).toEqual({ cniVersion: "1.1.0", supportedVersions: [...SUPPORTED_CNI_VERSIONS] });
    expect(out.json!.supportedVersions).toEqual(["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]);
  });

  for (const v of ["0.3.1", "0.4.0", "1.0.0"]) {
    test(`stdin {"cniVersion":"${v}"} → answered in ${v}`, async () => {
      const cni = new FakeCni();
      const out = await cni.invoke({ command: "VERSION" }, { cniVersion: v });
      expect(out.json!.cniVersion).toBe(v);
      expect(out.json!.supportedVersions).toEqual([...SUPPORTED_CNI_VERSIONS]);
    });
  }

  test("garbage stdin is ignored for VERSION (like libcni's skel)", async () => {
    const cni = new FakeCni();
    const out = await cni.invoke({ command: "VERSION" }, "not json");
    expect(out.exitCode).toBe(0);
    expect(out.json!.supportedVersions).toEqual([...SUPPORTED_CNI_VERSIONS]);
  });
});

describe("ipMasq chain life cycle", () => {
  test("written once (marker), kept while pods remain, removed with the last pod", async () => {
    const cni = new FakeCni();
    const conf = tartanConf({ ipMasq: true, v4: "10.88.0.0/16", v6: "fd88::/64" });
    const n1 = cni.netns("p1");
    const n2 = cni.netns("p2");
    await cni.invoke({ command: "ADD", netns: n1, containerId: "c1" }, conf);
    expect(cni.nft.scripts).toHaveLength(1);
    const script = cni.nft.scripts[0]!.script;
    expect(script).toContain("chain inet tartan masq-net1");
    expect(script).toContain("ip saddr 10.88.0.0/16");
    expect(script).toContain("ip6 saddr fd88::/64");
    expect(cni.nft.scripts[0]!.netns).toBeNull();
    expect([...cni.markers.keys()]).toEqual([`${DIR}/masq-net1.key`]);
    await cni.invoke({ command: "ADD", netns: n2, containerId: "c2" }, conf);
    expect(cni.nft.scripts).toHaveLength(1); // the marker saved the second write
    await cni.invoke({ command: "DEL", netns: n1, containerId: "c1" }, conf);
    expect(await cni.nft.list(null, "inet", "tartan")).toContain("masq-net1");
    await cni.invoke({ command: "DEL", netns: n2, containerId: "c2" }, conf);
    // The chain goes with the last pod; the empty table stays until GC (which runs exclusively).
    expect((await cni.nft.list(null, "inet", "tartan")) ?? "").not.toContain("chain");
    expect(cni.markers.size).toBe(0);
    await cni.invoke({ command: "GC" }, { ...conf, "cni.dev/valid-attachments": [] });
    expect(await cni.nft.list(null, "inet", "tartan")).toBeUndefined();
  });

  test("a marker from another boot / namespace does not stop the chain being written", async () => {
    const cni = new FakeCni();
    cni.markers.set(`${DIR}/masq-net1.key`, "old-boot/net:[1] 10.88.0.0/16");
    await cni.invoke({ command: "ADD", netns: cni.netns("p1") }, tartanConf({ ipMasq: true }));
    expect(cni.nft.scripts).toHaveLength(1);
    expect(await cni.nft.list(null, "inet", "tartan")).toContain("masq-net1");
  });

  test("without ipMasq no nft is run at all", async () => {
    const cni = new FakeCni();
    const netns = cni.netns("p1");
    await cni.invoke({ command: "ADD", netns }, tartanConf());
    await cni.invoke({ command: "DEL", netns }, tartanConf());
    expect(cni.nft.scripts).toEqual([]);
  });

  test("DEL of one network's last pod keeps the table while another network's chain is in it", async () => {
    const cni = new FakeCni();
    const n1 = cni.netns("p1");
    await cni.invoke({ command: "ADD", netns: n1, containerId: "c1" }, tartanConf({ ipMasq: true }));
    await cni.invoke(
      { command: "ADD", netns: cni.netns("p2"), containerId: "c2" },
      tartanConf({ name: "net2", ipMasq: true, v4: "10.77.0.0/16" }),
    );
    await cni.invoke({ command: "DEL", netns: n1, containerId: "c1" }, tartanConf({ ipMasq: true }));
    const listing = (await cni.nft.list(null, "inet", "tartan"))!;
    expect(listing).toContain("masq-net2");
    expect(listing).not.toContain("masq-net1");
  });
});
