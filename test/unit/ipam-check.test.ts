// tartan ipam check / show / release on the fake: the pure comparison of the nodes' stores with
// the Pod objects and the blocks (every problem kind, each with a fix), the usage counts, and the
// agent's release endpoint over a memory store (a leak is freed; an address whose container's
// netns still exists is refused unless forced).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Agent } from "../../src/agent/agent.ts";
import { ipamApi } from "../../src/agent/ipam-api.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { ipamCheck } from "../../src/ipam/ipam-check.ts";
import { ipamShow } from "../../src/ipam/ipam-show.ts";
import type { NodeIpamState } from "../../src/model/agent-api.ts";
import { clusterNode, ipamBlock, ipPool } from "../harness/cluster-objects.ts";
import { pod } from "../harness/k8s-objects.ts";

const dir = mkdtempSync(join(tmpdir(), "tt-ipam-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const liveNetns = join(dir, "netns-live");
writeFileSync(liveNetns, "");
const goneNetns = join(dir, "netns-gone");

const node = (name: string) =>
  clusterNode(name, { underlayAddress: "198.18.0.1", underlaySubnet: "198.18.0.0/24" });
const nodes = [node("n1"), node("n2")];
const blocks = [
  ipamBlock("10.0.0.0/26", "n1", "p4"),
  ipamBlock("10.0.0.64/26", "n2", "p4"),
  ipamBlock("10.0.0.128/26", "n9", "p4"),
];
const res = (ip: string, cid: string) => ({
  network: "net",
  ip,
  containerId: cid,
  ifname: "eth0",
  rangeKey: "10.0.0.0/26",
});
const att = (cid: string, netns: string, netnsExists: boolean) => ({
  network: "net",
  containerId: cid,
  ifname: "eth0",
  netns,
  hostIfname: "",
  createdAt: 0,
  netnsExists,
});

const n1: NodeIpamState = {
  node: "n1",
  network: "net",
  blocks: ["10.0.0.0/26"],
  reservations: [
    res("10.0.0.2", "live-a"), // fine: live, Pod x/a lists it
    res("10.0.0.3", "leaked"), // no attachment, no pod
    res("10.0.0.4", "gone"), // netns gone, Pod x/b still lists it
    res("10.0.0.5", "podman"), // live, no Pod
    res("10.0.0.70", "outside"), // live, in n2's block; Pod x/d lists it
    res("10.0.0.6", "dup-1"), // also reserved on n2
  ],
  attachments: [
    att("live-a", liveNetns, true),
    att("gone", goneNetns, false),
    att("podman", liveNetns, true),
    att("outside", liveNetns, true),
    att("dup-1", liveNetns, true),
  ],
};
const n2: NodeIpamState = {
  node: "n2",
  network: "net",
  blocks: ["10.0.0.64/26"],
  reservations: [res("10.0.0.6", "dup-2"), res("10.0.0.66", "live-c")],
  attachments: [att("dup-2", liveNetns, true), att("live-c", liveNetns, true)],
};
const pods = [
  pod("x/a", ["10.0.0.2"], { node: "n1" }),
  pod("x/b", ["10.0.0.4"], { node: "n1" }),
  pod("x/c", ["10.0.0.66"], { node: "n2" }),
  pod("x/d", ["10.0.0.70"], { node: "n1" }),
  pod("x/e", ["10.0.0.9"], { node: "n1" }), // not reserved on n1
  pod("y/e", ["10.0.0.6"], { node: "n1" }),
  pod("y/f", ["10.0.0.6"], { node: "n2" }), // two pods, one address
  pod("x/done", ["10.0.0.3"], { node: "n1", phase: "Succeeded" }), // finished: holds nothing
];

describe("ipam check", () => {
  const c = ipamCheck({
    nodes,
    blocks,
    pods,
    stores: [n1, n2],
    unreachable: [{ node: "n3", reason: "no socket" }],
  });
  const kinds = c.problems.map((p) => `${p.kind} ${p.node ?? "-"} ${p.ip ?? "-"}`);

  test("every inconsistency, once, each with a fix", () => {
    expect(kinds).toEqual([
      "address-held-twice - 10.0.0.6",
      "address-held-twice - 10.0.0.6",
      "address-outside-node-blocks n1 10.0.0.70",
      "address-outside-node-blocks n2 10.0.0.6",
      "address-without-pod n1 10.0.0.5",
      "agent-unreachable n3 -",
      "block-of-missing-node n9 -",
      "container-gone n1 10.0.0.4",
      "leaked-address n1 10.0.0.3",
      "pod-address-not-reserved n1 10.0.0.9",
    ]);
    expect(c.ok).toBe(false);
    for (const p of c.problems) expect(p.fix.length).toBeGreaterThan(10);
    expect(c.problems.find((p) => p.kind === "leaked-address")!.fix).toContain(
      "tartan ipam release --ip 10.0.0.3",
    );
    expect(c.problems.find((p) => p.kind === "container-gone")!.detail).toContain("x/b");
    const twice = c.problems.filter((p) => p.kind === "address-held-twice").map((p) => p.detail);
    expect(twice.some((d) => d.includes("on n1") && d.includes("on n2"))).toBe(true);
    expect(twice.some((d) => d.includes("y/e, y/f"))).toBe(true);
    expect(c.checked).toEqual({ nodes: ["n1", "n2"], reservations: 8, pods: 7, blocks: 3 });
  });

  test("a consistent cluster is ok", () => {
    const ok = ipamCheck({
      nodes,
      blocks: blocks.slice(0, 2),
      pods: [pods[0]!, pods[2]!],
      stores: [
        { ...n1, reservations: [n1.reservations[0]!], attachments: [n1.attachments[0]!] },
        { ...n2, reservations: [n2.reservations[1]!], attachments: [n2.attachments[1]!] },
      ],
      unreachable: [],
    });
    expect(ok).toEqual({
      ok: true,
      problems: [],
      checked: { nodes: ["n1", "n2"], reservations: 2, pods: 2, blocks: 2 },
    });
  });
});

describe("ipam show", () => {
  test("pools, blocks with owner and fill, per-node totals; an unread store has no counts", () => {
    const s = ipamShow({ pools: [ipPool("p4", "10.0.0.0/24", 26)], blocks, nodes, stores: [n1] });
    expect(s.pools).toEqual([{ name: "p4", cidr: "10.0.0.0/24", blockSize: 26, blocks: 3 }]);
    // A /26 gives 61 addresses (network, gateway and broadcast are never handed out).
    expect(s.blocks[0]).toEqual({
      cidr: "10.0.0.0/26",
      pool: "p4",
      node: "n1",
      nodeExists: true,
      capacity: 61,
      used: 5,
      free: 56,
    });
    expect(s.blocks[1]).toEqual({
      cidr: "10.0.0.64/26",
      pool: "p4",
      node: "n2",
      nodeExists: true,
      capacity: 61,
    });
    expect(s.blocks[2]).toMatchObject({ node: "n9", nodeExists: false });
    expect(s.nodes).toEqual([
      { node: "n1", blocks: 1, capacity: 61, used: 5, free: 56, reservations: 6 },
      { node: "n2", blocks: 1, capacity: 61 },
      { node: "n9", blocks: 1, capacity: 61 },
    ]);
  });
});

interface Body {
  code?: string;
  hint?: string;
  attachmentRemoved?: boolean;
  node?: string;
  released?: unknown[];
  reservations?: { ip: string }[];
  attachments?: { containerId: string; netnsExists: boolean }[];
}

describe("the agent's release endpoint", () => {
  const store = new MemoryIpamStore();
  const logs: string[] = [];
  const agent = {
    nodeName: "n1",
    ipam: { store, network: "net" },
    log: (_l: string, m: string) => logs.push(m),
  } as unknown as Agent;
  store.transaction((tx) => {
    for (const [cid, ips, netns] of [
      ["leak", ["10.0.0.3", "fd00::3"], undefined],
      ["live", ["10.0.0.2"], liveNetns],
      ["stale", ["10.0.0.4"], goneNetns],
    ] as const) {
      for (const ip of ips)
        tx.reserve({ network: "net", ip, containerId: cid, ifname: "eth0", rangeKey: "r" });
      if (netns)
        tx.putAttachment({
          network: "net",
          containerId: cid,
          ifname: "eth0",
          netns,
          hostIfname: "",
          result: "{}",
          createdAt: 1,
        });
    }
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await ipamApi(
      agent,
      new Request(`http://a${path}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) }),
    );
    return { status: r!.status, body: (await r!.json()) as Body };
  };

  test("GET /v1/ipam: reservations, attachments with whether their netns exists", async () => {
    const r = await call("GET", "/v1/ipam");
    expect(r.status).toBe(200);
    expect(r.body.reservations!.map((a: { ip: string }) => a.ip).sort()).toEqual([
      "10.0.0.2",
      "10.0.0.3",
      "10.0.0.4",
      "fd00::3",
    ]);
    expect(
      r.body
        .attachments!.map((a: { containerId: string; netnsExists: boolean }) => [
          a.containerId,
          a.netnsExists,
        ])
        .sort(),
    ).toEqual([
      ["live", true],
      ["stale", false],
    ]);
  });

  test("a leak is released with every address of its owner", async () => {
    const r = await call("POST", "/v1/ipam/release", { ip: "10.0.0.3" });
    expect(r).toEqual({
      status: 200,
      body: {
        node: "n1",
        released: [
          { network: "net", ip: "10.0.0.3", containerId: "leak", ifname: "eth0", rangeKey: "r" },
          { network: "net", ip: "fd00::3", containerId: "leak", ifname: "eth0", rangeKey: "r" },
        ],
        attachmentRemoved: false,
      },
    });
    expect(store.transaction((tx) => tx.isAllocated("net", "fd00::3"))).toBe(false);
    expect(logs).toContain("ipam: released on request");
  });

  test("an address whose container's netns exists is refused, then released with force", async () => {
    const refused = await call("POST", "/v1/ipam/release", { ip: "10.0.0.2" });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("ipam-release-refused");
    expect(refused.body.hint).toContain("--force");
    expect(store.transaction((tx) => tx.isAllocated("net", "10.0.0.2"))).toBe(true);
    const forced = await call("POST", "/v1/ipam/release", { ip: "10.0.0.2", force: true });
    expect(forced.status).toBe(200);
    expect(forced.body.attachmentRemoved).toBe(true);
    expect(store.transaction((tx) => tx.getAttachment("net", "live", "eth0"))).toBeUndefined();
  });

  test("a record whose netns is gone is released with its record; unknown and malformed addresses are errors", async () => {
    expect((await call("POST", "/v1/ipam/release", { ip: "10.0.0.4" })).body.attachmentRemoved).toBe(true);
    const missing = await call("POST", "/v1/ipam/release", { ip: "10.0.0.99" });
    expect([missing.status, missing.body.code]).toEqual([404, "ipam-not-reserved"]);
    expect((await call("POST", "/v1/ipam/release", { ip: "nope" })).status).toBe(400);
    expect(await ipamApi(agent, new Request("http://a/v1/other"))).toBeUndefined();
  });
});
