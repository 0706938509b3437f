// The explain and ipam commands end to end in-process: objects in a local (SQLite) datastore,
// node stores behind a fake agent on a unix socket (the real ipam socket API over a memory
// store), the command table's runner, its exit codes and its table/json output. The lab paths
// (relay into the fabric namespace, --probe) run in test/e2e/debug-explain.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Agent } from "../../src/agent/agent.ts";
import { ipamApi } from "../../src/agent/ipam-api.ts";
import { CLI_COMMANDS } from "../../src/cli/commands/cli-commands.ts";
import { parsePortOption } from "../../src/cli/commands/explain-command.ts";
import { runCommandTable } from "../../src/cli/run-command-table.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import { clusterNode, ipamBlock, ipPool } from "../harness/cluster-objects.ts";
import { namespace, netpol, pod } from "../harness/k8s-objects.ts";

const tmp = mkdtempSync(join(tmpdir(), "tartan-explain-cli-"));
const db = join(tmp, "datastore.db");
const socket = join(tmp, "agent.sock");

const ds = await openDatastore({ type: "local", path: db });
for (const o of [
  namespace("prod"),
  namespace("dev"),
  pod("prod/web", ["10.0.0.2"], {
    node: "n1",
    labels: { app: "web" },
    ports: [{ name: "http", containerPort: 80 }],
  }),
  pod("dev/client", ["10.0.0.3"], { node: "n1", labels: { app: "client" } }),
  pod("prod/api", ["10.0.0.4"], { node: "n1" }),
  netpol("prod/web-from-prod", {
    podSelector: { matchLabels: { app: "web" } },
    policyTypes: ["Ingress"],
    ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: "http" }] }],
  }),
  clusterNode("n1", { underlayAddress: "198.18.0.1", underlaySubnet: "198.18.0.0/24" }),
  ipamBlock("10.0.0.0/26", "n1", "p4"),
  ipPool("p4", "10.0.0.0/24", 26),
])
  await ds.create(o);
await ds.close();

// Node n1's store: the two pods, and a leak.
const store = new MemoryIpamStore();
store.transaction((tx) => {
  for (const [ip, cid] of [
    ["10.0.0.2", "web"],
    ["10.0.0.3", "client"],
    ["10.0.0.4", "api"],
    ["10.0.0.9", "leak"],
  ] as const) {
    tx.reserve({ network: "net", ip, containerId: cid, ifname: "eth0", rangeKey: "10.0.0.0/26" });
    if (cid !== "leak")
      tx.putAttachment({
        network: "net",
        containerId: cid,
        ifname: "eth0",
        netns: tmp,
        hostIfname: "",
        result: "{}",
        createdAt: 1,
      });
  }
});
const agent = { nodeName: "n1", ipam: { store, network: "net" }, log: () => {} } as unknown as Agent;
const server = Bun.serve({
  unix: socket,
  fetch: async (req) => (await ipamApi(agent, req)) ?? new Response("{}", { status: 404 }),
});
afterAll(() => {
  server.stop(true);
  rmSync(tmp, { recursive: true, force: true });
});

async function tartan(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCommandTable(CLI_COMMANDS, [...args, "--datastore", `local=${db}`], {
    io: {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
      stdin: async () => "",
    },
    env: {},
  });
  return { code, out, err };
}

describe("tartan explain", () => {
  test("--port N[/PROTO]", () => {
    expect(parsePortOption("80")).toEqual({ port: 80, protocol: "TCP" });
    expect(parsePortOption("53/udp")).toEqual({ port: 53, protocol: "UDP" });
    expect(() => parsePortOption("0")).toThrow("N[/TCP|UDP|SCTP]");
    expect(() => parsePortOption("80/icmp")).toThrow("N[/TCP|UDP|SCTP]");
  });

  test("denied: exit 1, the table names the isolating policy", async () => {
    const r = await tartan("explain", "dev/client", "prod/web", "--port", "80");
    expect(r.code).toBe(1);
    expect(r.out).toContain("VERDICT  DENIED  dev/client (10.0.0.3) → prod/web (10.0.0.2) TCP/80");
    expect(r.out).toContain(
      "INGRESS  denied: prod/web on n1: prod/web is isolated for ingress by prod/web-from-prod and no rule allows TCP/80 from 10.0.0.3",
    );
    expect(r.out).toContain("PATH     both ends on node n1");
  });

  test("allowed: exit 0, JSON with the rule (named port)", async () => {
    const r = await tartan("explain", "10.0.0.4", "prod/web", "-o", "json");
    expect(r.code).toBe(0);
    const e = JSON.parse(r.out);
    expect(e.verdict).toBe("allowed");
    expect(e.port).toBe(80); // the destination's first container port
    expect(e.ingress.rule).toEqual({
      policy: "prod/web-from-prod",
      index: 0,
      peer: 0,
      port: 0,
      text: "spec.ingress[0]: from[0] podSelector {}, ports[0] http (TCP 80)",
    });
  });

  test("--probe outside a lab is a usage error saying why", async () => {
    const r = await tartan("explain", "dev/client", "prod/web", "--probe");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--probe needs a lab");
  });

  test("--help shows examples", async () => {
    const r = await tartan("explain", "--help");
    expect(r.out).toContain("tartan explain x/b x/a --port 80");
  });
});

describe("tartan ipam over an agent socket", () => {
  test("check: the leak, exit 1, JSON shape", async () => {
    const r = await tartan("ipam", "check", "--socket", socket, "-o", "json");
    expect(r.code).toBe(1);
    const c = JSON.parse(r.out);
    expect(c.ok).toBe(false);
    expect(c.problems).toEqual([
      {
        kind: "leaked-address",
        ip: "10.0.0.9",
        node: "n1",
        detail: expect.stringContaining("no attachment record holds it"),
        fix: "tartan ipam release --ip 10.0.0.9 (frees it and every address of the same container)",
      },
    ]);
  });

  test("show: blocks with used/free, per-node totals", async () => {
    const r = await tartan("ipam", "show", "--socket", socket);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/10\.0\.0\.0\/26\s+p4\s+n1\s+61\s+4\s+57/);
    expect(r.out).toMatch(/n1\s+1\s+61\s+4\s+57\s+4/);
  });

  test("release: refused for a pod's address, the leak freed, then check is clean", async () => {
    const refused = await tartan("ipam", "release", "--ip", "10.0.0.2", "--socket", socket);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("10.0.0.2 is in use: Pod prod/web lists it");
    const unknown = await tartan("ipam", "release", "--ip", "10.0.0.50", "--socket", socket);
    expect([unknown.code, unknown.err]).toEqual([
      1,
      expect.stringContaining("no node's IPAM store reserves 10.0.0.50"),
    ]);
    const ok = await tartan("ipam", "release", "--ip", "10.0.0.9", "--socket", socket);
    expect(ok).toEqual({ code: 0, out: "released on n1: 10.0.0.9 (container leak, eth0)\n", err: "" });
    const after = await tartan("ipam", "check", "--socket", socket);
    expect(after.code).toBe(0);
    expect(after.out).toContain(
      "ok: no problems (1 node store(s), 3 reservations, 3 pod addresses, 1 blocks)",
    );
  });

  test("an agent that does not answer is a problem of the check, not a hang", async () => {
    const r = await tartan(
      "ipam",
      "check",
      "--socket",
      join(tmp, "nothing.sock"),
      "--node",
      "n1",
      "-o",
      "json",
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).problems).toEqual([
      expect.objectContaining({ kind: "agent-unreachable", node: "n1" }),
    ]);
  });
});
