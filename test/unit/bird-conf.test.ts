// The BGP model (calc/bgp-model.ts) and its BIRD text (render/bird-conf.ts): one golden file per
// topology (UPDATE_GOLDEN=1 rewrites them), every one accepted by the real `bird -p` when BIRD is
// installed, and the model's rules (mesh, passive side, reflectors, peerSelector both ways,
// external peers, IPv6 next hop, cross-subnet kernel filter) checked on their own.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BgpModelInput, calcBgpModel } from "../../src/calc/bgp-model.ts";
import type { TartanError } from "../../src/errors/tartan-error.ts";
import { run } from "../../src/exec/run.ts";
import type { BGPConfigurationSpec, BGPPeerSpec, NodeBGPSpec } from "../../src/model/bgp-resources.ts";
import type { IPAMBlockResource, NodeResource } from "../../src/model/cluster-resources.ts";
import { renderBirdConf } from "../../src/render/bird-conf.ts";

const BIRD = "/usr/sbin/bird";
const haveBird = existsSync(BIRD);
const GOLDEN = join(import.meta.dir, "golden", "bird");
const V = "tartan.dev/v1alpha1";

const node = (
  name: string,
  addr: string,
  bgp?: NodeBGPSpec,
  labels?: Record<string, string>,
): NodeResource => ({
  apiVersion: V,
  kind: "Node",
  metadata: { name, ...(labels ? { labels } : {}) },
  spec: {
    underlayAddress: addr,
    underlaySubnet: addr.startsWith("198.18.1.") ? "198.18.1.0/24" : "198.18.0.0/24",
    ...(bgp ? { bgp } : {}),
  },
});
const block = (cidr: string, n: string): IPAMBlockResource => ({
  apiVersion: V,
  kind: "IPAMBlock",
  metadata: { name: cidr.replace(/[.:/]/g, "-") },
  spec: { cidr, node: n, pool: "p" },
});
const config = (spec: BGPConfigurationSpec) => ({
  apiVersion: V,
  kind: "BGPConfiguration",
  metadata: { name: "default" },
  spec,
});
const peer = (name: string, spec: BGPPeerSpec) => ({
  apiVersion: V,
  kind: "BGPPeer",
  metadata: { name },
  spec,
});
const RR_SELECTOR = {
  matchExpressions: [{ key: "tartan.dev/route-reflector", operator: "Exists" as const }],
};

const n1 = node("node-1", "198.18.0.11", { ipv6Address: "fd00:198:18::11" });
const n2 = node("node-2", "198.18.0.12", { ipv6Address: "fd00:198:18::12" });
const n3 = node("node-3", "198.18.0.13", { ipv6Address: "fd00:198:18::13" });
const blocks = [
  block("10.244.0.0/26", "node-1"),
  block("10.244.0.128/26", "node-1"),
  block("fd44:7461:7274::/122", "node-1"),
  block("10.244.0.64/26", "node-2"),
  block("fd44:7461:7274::40/122", "node-2"),
  block("10.244.0.192/26", "node-3"),
];
const base: BgpModelInput = {
  localNode: "node-1",
  nodes: [n1, n2, n3],
  blocks,
  pools: [
    { cidr: "10.244.0.0/16", blockSize: 26 },
    { cidr: "fd44:7461:7274::/48", blockSize: 122 },
  ],
  configs: [],
  peers: [],
  crossSubnet: false,
};

/** Each topology: the model input of one node. */
const TOPOLOGIES: Record<string, BgpModelInput> = {
  "mesh-3": base,
  "mesh-password-restart-port": {
    ...base,
    configs: [
      config({
        asNumber: 65010,
        nodeMeshPassword: "m3sh!pw",
        nodeMeshMaxRestartTime: "5m",
        listenPort: 1179,
      }),
    ],
  },
  "route-reflector": {
    ...base,
    nodes: [
      node("node-1", "198.18.0.11", { ipv6Address: "fd00:198:18::11", routeReflectorClusterID: "244.0.0.1" }),
      n2,
      n3,
    ],
    configs: [config({ nodeToNodeMeshEnabled: false })],
    peers: [peer("to-rr", { peerSelector: RR_SELECTOR })],
  },
  "route-reflector-client": {
    ...base,
    localNode: "node-2",
    nodes: [
      node("node-1", "198.18.0.11", { ipv6Address: "fd00:198:18::11", routeReflectorClusterID: "244.0.0.1" }),
      n2,
      n3,
    ],
    configs: [config({ nodeToNodeMeshEnabled: false })],
    peers: [peer("to-rr", { peerSelector: RR_SELECTOR })],
  },
  "tor-per-rack-as": {
    ...base,
    nodes: [
      node("node-1", "198.18.0.11", { asNumber: 65101 }, { rack: "a" }),
      node("node-2", "198.18.0.12", { asNumber: 65101 }, { rack: "a" }),
      node("node-3", "198.18.1.13", { asNumber: 65102 }, { rack: "b" }),
    ],
    peers: [
      peer("tor-a", {
        nodeSelector: { matchLabels: { rack: "a" } },
        peerIP: "198.18.0.254",
        asNumber: 65000,
        password: "t0r",
        keepaliveTime: "10s",
        maxRestartTime: "90s",
      }),
      peer("tor-b", {
        nodeSelector: { matchLabels: { rack: "b" } },
        peerIP: "198.18.1.254",
        asNumber: 65000,
        sourceAddress: "None",
      }),
      peer("core", { node: "node-1", peerIP: "[fd00:ff::1]:1179", asNumber: 65500 }),
    ],
  },
  // Lazily the same cluster from node-3 (rack b, the ToR session without a source address).
  get "tor-rack-b"(): BgpModelInput {
    return { ...TOPOLOGIES["tor-per-rack-as"]!, localNode: "node-3" };
  },
  "ipv6-core-router": {
    ...base,
    peers: [peer("core", { node: "node-1", peerIP: "[fd00:ff::1]:1179", asNumber: 65500, password: "c0re" })],
  },
  "cross-subnet": {
    ...base,
    nodes: [n1, n2, node("node-3", "198.18.1.13", { ipv6Address: "fd00:198:19::13" })],
    crossSubnet: true,
  },
  "ipv4-only-single-node": {
    ...base,
    nodes: [node("node-1", "198.18.0.11")],
    blocks: [block("10.244.0.0/26", "node-1")],
  },
};

describe("bird.conf per topology (golden files)", () => {
  for (const [name, input] of Object.entries(TOPOLOGIES)) {
    test(name, async () => {
      const text = renderBirdConf(calcBgpModel(input));
      const file = join(GOLDEN, `${name}.conf`);
      if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) writeFileSync(file, text);
      expect(text).toBe(readFileSync(file, "utf8"));
    });
  }

  test.skipIf(!haveBird)("bird -p accepts every generated config", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tartan-birdconf-"));
    try {
      for (const [name, input] of Object.entries(TOPOLOGIES)) {
        const f = join(dir, `${name}.conf`);
        writeFileSync(f, renderBirdConf(calcBgpModel(input)));
        const r = await run([BIRD, "-p", "-c", f], { allowFailure: true });
        expect(`${name}: ${r.code} ${r.stderr.trim()}`).toBe(`${name}: 0 `);
      }
      // And bird -p does refuse a broken one (the check can fail).
      writeFileSync(join(dir, "bad.conf"), "protocol bgp x { neighbor 1.2.3.4 as ; }\n");
      expect((await run([BIRD, "-p", "-c", join(dir, "bad.conf")], { allowFailure: true })).code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the BGP model", () => {
  test("mesh: one session per other node, passive towards greater addresses, both families", () => {
    const m = calcBgpModel(base);
    expect(m.routerId).toBe("198.18.0.11");
    expect(m.blocks4).toEqual(["10.244.0.0/26", "10.244.0.128/26"]);
    expect(m.blocks6).toEqual(["fd44:7461:7274::/122"]);
    expect(m.sessions.map((s) => [s.name, s.type, s.passive, s.ipv6])).toEqual([
      ["mesh_198_18_0_12", "mesh", true, true],
      ["mesh_198_18_0_13", "mesh", true, true],
    ]);
    const from3 = calcBgpModel({ ...base, localNode: "node-3" });
    expect(from3.sessions.every((s) => !s.passive)).toBe(true);
  });

  test("mesh of 50 + awkward addresses: every pair has exactly one active side, by numeric order", () => {
    // Text order differs from numeric order here (".9" > ".10", "198.18.1.2" > "198.18.0.200"
    // as text), and two nodes are IPv6-only; both ends must agree on who connects.
    const nodes = [
      ...Array.from({ length: 50 }, (_, i) => node(`node-${i + 1}`, `198.18.0.${11 + i}`)),
      node("x-9", "198.18.0.9"),
      node("x-10", "198.18.0.10"),
      node("x-200", "198.18.0.200"),
      node("x-1-2", "198.18.1.2"),
    ];
    const v6 = [node("v6-a", "fd00::9"), node("v6-b", "fd00::10")];
    const all = [...nodes, ...v6];
    const models = new Map(
      all.map((n) => [
        n.spec.underlayAddress,
        calcBgpModel({ ...base, nodes: all, localNode: n.metadata.name }),
      ]),
    );
    const num = (a: string) =>
      a.includes(":")
        ? BigInt(`0x${a.split(":").pop()}`)
        : BigInt(a.split(".").reduce((v, b) => v * 256 + Number(b), 0));
    let pairs = 0;
    for (const [addr, m] of models) {
      for (const s of m.sessions) {
        const back = models.get(s.peerIP)!.sessions.find((x) => x.peerIP === addr)!;
        expect({ pair: [addr, s.peerIP], passive: [s.passive, back.passive].sort() }).toEqual({
          pair: [addr, s.peerIP],
          passive: [false, true],
        });
        expect(s.passive).toBe(num(s.peerIP) > num(addr));
        pairs++;
      }
    }
    expect(pairs).toBe(54 * 53 + 2);
    // A peer without an IPv6 address: IPv4 only on that session.
    const noV6 = calcBgpModel({ ...base, nodes: [n1, n2, node("node-3", "198.18.0.13")] });
    expect(noV6.sessions.map((s) => s.ipv6)).toEqual([true, false]);
  });

  test("route reflectors leave the mesh; peerSelector peers both ways; clients get rr client", () => {
    const rr = calcBgpModel(TOPOLOGIES["route-reflector"]!);
    expect(rr.routeReflectorClusterId).toBe("244.0.0.1");
    expect(rr.sessions.map((s) => [s.peerNode, s.type, s.rrClusterId])).toEqual([
      ["node-2", "reflector-client", "244.0.0.1"],
      ["node-3", "reflector-client", "244.0.0.1"],
    ]);
    const client = calcBgpModel(TOPOLOGIES["route-reflector-client"]!);
    expect(client.sessions.map((s) => [s.peerNode, s.type])).toEqual([["node-1", "reflector"]]);
    // Mesh on: the reflector still never meshes, the clients mesh among themselves.
    const meshOn = calcBgpModel({ ...TOPOLOGIES["route-reflector-client"]!, configs: [] });
    expect(meshOn.sessions.map((s) => [s.peerNode, s.type])).toEqual([
      ["node-3", "mesh"],
      ["node-1", "reflector"],
    ]);
  });

  test("external peers: by nodeSelector / node, direct or multihop, IPv6 peer over the IPv6 address", () => {
    const t = TOPOLOGIES["tor-per-rack-as"]!;
    const m1 = calcBgpModel(t);
    const ext = m1.sessions.filter((s) => s.type === "external");
    expect(ext.map((s) => [s.peerIP, s.multihop, s.asNumber, s.ipv4, s.port ?? 179])).toEqual([
      ["198.18.0.254", false, 65000, true, 179],
    ]);
    // The IPv6 core router needs an IPv6 address this node does not have: reported, not configured.
    expect(m1.problems.map((p) => p.code)).toEqual(["bgp-peer-family"]);
    const m3 = calcBgpModel({ ...t, localNode: "node-3" });
    const ext3 = m3.sessions.filter((s) => s.type === "external");
    expect(ext3.map((s) => [s.peerIP, s.localAddress ?? "(bird picks)"])).toEqual([
      ["198.18.1.254", "(bird picks)"],
    ]);
    // An IPv6 router, from a node with an IPv6 address: a session over IPv6, the ipv6 channel only.
    const v6 = calcBgpModel(TOPOLOGIES["ipv6-core-router"]!).sessions.find((s) => s.type === "external")!;
    expect([v6.peerIP, v6.port, v6.localAddress, v6.ipv4, v6.ipv6]).toEqual([
      "fd00:ff::1",
      1179,
      "fd00:198:18::11",
      false,
      true,
    ]);
    // Per-rack AS: the mesh sessions between racks are eBGP.
    expect(m3.asNumber).toBe(65102);
    expect(m3.sessions.filter((s) => s.type === "mesh").map((s) => s.asNumber)).toEqual([65101, 65101]);
  });

  test("an explicit peering replaces the mesh session to the same node", () => {
    const m = calcBgpModel({
      ...base,
      peers: [
        peer("p", { peerSelector: { matchLabels: { "kubernetes.io/hostname": "node-2" } }, password: "x1" }),
      ],
    });
    expect(m.sessions.map((s) => [s.peerNode, s.type, s.password ?? "-"])).toEqual([
      ["node-3", "mesh", "-"],
      ["node-2", "node", "x1"],
    ]);
  });

  test("cross-subnet: only next hops on the local subnet reach the kernel", () => {
    const m = calcBgpModel(TOPOLOGIES["cross-subnet"]!);
    expect(m.kernelNextHops).toEqual({ subnet4: "198.18.0.0/24", addresses6: ["fd00:198:18::12"] });
    expect(renderBirdConf(m)).toContain(
      "if source = RTS_BGP && (bgp_next_hop ~ 198.18.0.0/24 || bgp_next_hop = fd00:198:18::12) then accept;",
    );
  });

  test("the export to peers never names a prefix set: adding a block is adding a static route", () => {
    const one = renderBirdConf(calcBgpModel({ ...base, blocks: blocks.slice(0, 1) }));
    const two = renderBirdConf(calcBgpModel(base));
    const filters = (t: string) =>
      t
        .split("\n")
        .filter((l) => /^filter|^ {2}if|^define/.test(l))
        .join("\n");
    expect(filters(one)).toBe(filters(two));
    expect(two).toContain("route 10.244.0.128/26 blackhole;");
  });
});

describe("bird's log", () => {
  const log = {
    file: "/run/tartan/bird/bird.log",
    backup: "/run/tartan/bird/bird.log.1",
    limitBytes: 8 << 20,
  };

  test("a size-limited file with a backup, and the same config otherwise", () => {
    const m = calcBgpModel(base);
    const text = renderBirdConf(m, log);
    expect(text.split("\n")[1]).toBe(
      'log "/run/tartan/bird/bird.log" 8388608 "/run/tartan/bird/bird.log.1" all;',
    );
    expect(text.replace(/^log .*$/m, "log stderr all;")).toBe(renderBirdConf(m));
  });

  test("a path bird cannot quote, or a silly limit, is refused with what to change", () => {
    const m = calcBgpModel(base);
    const refused = (() => {
      try {
        renderBirdConf(m, { ...log, file: '/run/x"y/bird.log' });
      } catch (e) {
        return e as TartanError;
      }
    })();
    expect(refused?.code).toBe("bgp-config-invalid");
    expect(refused?.hint).toContain("bgp.stateDir");
    expect(() => renderBirdConf(m, { ...log, backup: "relative/bird.log.1" })).toThrow(/absolute/);
    expect(() => renderBirdConf(m, { ...log, limitBytes: 10 })).toThrow(/at least 4096/);
  });

  test.skipIf(!haveBird)("bird -p accepts the log line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tartan-birdlog-"));
    try {
      const f = join(dir, "bird.conf");
      writeFileSync(
        f,
        renderBirdConf(calcBgpModel(base), { ...log, file: join(dir, "l"), backup: join(dir, "l.1") }),
      );
      const r = await run([BIRD, "-p", "-c", f], { allowFailure: true });
      expect(`${r.code} ${r.stderr.trim()}`).toBe("0 ");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
