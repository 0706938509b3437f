// tartan status / policy / diagnose / get, CLI side, on fakes: verdicts made of agent reports,
// partial answers when agents do not answer (fake agents on unix sockets in a fake lab root),
// config redaction, the bundle's tar.gz, kubectl's label selectors and the watch of `get`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { askAgents } from "../../src/cli/ask-agents.ts";
import { capped } from "../../src/cli/collect-diagnostics.ts";
import type { CommandTable } from "../../src/cli/command.ts";
import { CLI_COMMANDS } from "../../src/cli/commands/cli-commands.ts";
import { fileTail } from "../../src/cli/file-tail.ts";
import { getObjects, watchObjects } from "../../src/cli/get-objects.ts";
import { nodeProblems, statusOfReport, statusOfUnreachable } from "../../src/cli/node-verdict.ts";
import { parseSelector } from "../../src/cli/parse-selector.ts";
import { REDACTED, redactConfig } from "../../src/cli/redact-config.ts";
import { resourceKind } from "../../src/cli/resource-kind.ts";
import { runCommandTable } from "../../src/cli/run-command-table.ts";
import { tarGz, untarGz } from "../../src/cli/tar-gz.ts";
import type { WatchEvent } from "../../src/datastore/datastore.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { run } from "../../src/exec/run.ts";
import type { NodeStatusReport } from "../../src/model/agent-api.ts";
import { selectorMatches } from "../../src/model/label-selector.ts";
import { eventually } from "../harness/eventually.ts";
import { pod } from "../harness/k8s-objects.ts";

const tmp = mkdtempSync(`${tmpdir()}/tt-status-cli-`);
const servers: { stop(force?: boolean): unknown }[] = [];
afterAll(() => {
  for (const s of servers) s.stop(true);
  rmSync(tmp, { recursive: true, force: true });
});

const healthy = (name: string, over: Partial<NodeStatusReport> = {}): NodeStatusReport => ({
  name,
  version: "0.1.0",
  startedAt: "2026-12-05T10:00:00.000Z",
  uptimeSeconds: 90,
  backend: "vxlan",
  synced: true,
  inSyncSince: "2026-12-05T10:00:01.000Z",
  notLive: [],
  datastore: { reachable: true, latencyMs: 3, behind: 0 },
  lastApply: [{ manager: "routing", at: "2026-12-05T10:00:01.000Z", durationMs: 4.2, changes: 3, errors: 0 }],
  peers: [{ name: "node-2", ok: true, routes: [{ dst: "10.244.0.64/26", state: "ok" }] }],
  routingProblems: [],
  pods: 2,
  addresses: 2,
  isolatedPods: 1,
  unenforceable: [],
  blocks: ["10.244.0.0/26"],
  ...over,
});

describe("verdicts", () => {
  test("healthy: ready, and a verdict that counts peers and pods", () => {
    const s = statusOfReport(healthy("node-1"));
    expect(s).toMatchObject({ name: "node-1", ready: true, reachable: true, backend: "vxlan", problems: [] });
    expect(s.verdict).toBe("healthy: 1/1 peers programmed, 2 pods");
  });

  test("every kind of trouble is a problem, the first one is the verdict", () => {
    const r = healthy("node-1", {
      synced: false,
      datastore: { reachable: false, error: "listing the datastore: no answer within 2000 ms" },
      notLive: ["Pod"],
      lastApply: [
        {
          manager: "routing",
          at: "x",
          durationMs: 1,
          errors: 2,
          error: "ip: RTNETLINK answers: File exists",
        },
      ],
      routingProblems: ["the VXLAN device tartan.vxlan is missing"],
      peers: [{ name: "node-2", ok: false, problem: "route 10.244.0.64/26 missing", routes: [] }],
    });
    expect(nodeProblems(r)).toEqual([
      "first datastore sync not done",
      "datastore unreachable: listing the datastore: no answer within 2000 ms",
      "watch lost, re-listing: Pod",
      "last routing apply failed: ip: RTNETLINK answers: File exists",
      "the VXLAN device tartan.vxlan is missing",
      "peer node-2: route 10.244.0.64/26 missing",
    ]);
    const s = statusOfReport(r);
    expect(s.ready).toBe(false);
    expect(s.verdict).toBe("first datastore sync not done (+5 more)");
  });

  test("a lagging watch names how many objects of which kinds", () => {
    const r = healthy("n", { datastore: { reachable: true, behind: 3, behindKinds: { Pod: 2, Node: 1 } } });
    expect(nodeProblems(r)).toEqual(["watch behind the datastore by 3 objects (Pod 2, Node 1)"]);
  });

  test("policies that cannot be enforced are warnings: the node stays ready", () => {
    const s = statusOfReport(
      healthy("n", {
        unenforceable: [{ object: "shop/sctp", code: "sctp-unsupported", message: "no SCTP" }],
      }),
    );
    expect(s.ready).toBe(true);
    expect(s.warnings).toEqual(["shop/sctp: sctp-unsupported: no SCTP"]);
    expect(s.verdict).toBe("healthy: 1/1 peers programmed, 2 pods, 1 policy not enforceable");
  });

  test("a peer whose heartbeat went stale is a warning of the nodes that still route to it", () => {
    const s = statusOfReport(
      healthy("n", { peers: [{ name: "node-2", ok: true, routes: [], notReady: "HeartbeatStale" }] }),
    );
    expect(s.ready).toBe(true);
    expect(s.warnings).toEqual(["peer node-2 is not ready (HeartbeatStale)"]);
    expect(s.verdict).toBe("healthy: 1/1 peers programmed, 2 pods, peer node-2 not ready");
  });

  test("an agent that did not answer: not ready, the reason is the verdict", () => {
    const s = statusOfUnreachable(
      { node: "node-3", socket: "/x", code: "agent-unreachable", reason: "connection refused" },
      "vxlan",
    );
    expect(s).toMatchObject({ name: "node-3", ready: false, reachable: false, backend: "vxlan", peers: [] });
    expect(s.verdict).toBe("agent unreachable: connection refused");
  });
});

/** A fake agent on a unix socket: `answer` per path, 404 elsewhere. */
function fakeAgent(socket: string, answer: Record<string, unknown> | "hang" | "fail") {
  const server = Bun.serve({
    unix: socket,
    fetch: async (req) => {
      if (answer === "hang") return await new Promise<Response>(() => {});
      if (answer === "fail")
        return Response.json({ code: "agent-internal", message: "boom" }, { status: 500 });
      const path = new URL(req.url).pathname;
      return path in answer ? Response.json(answer[path]) : new Response("no", { status: 404 });
    },
  });
  servers.push(server);
  return socket;
}

describe("asking several agents", () => {
  test("answers from those that respond; the others with a reason, in the refs' order, bounded", async () => {
    const ok = fakeAgent(`${tmp}/ok.sock`, { "/v1/x": { hello: 1 } });
    const hang = fakeAgent(`${tmp}/hang.sock`, "hang");
    const t0 = performance.now();
    const r = await askAgents<{ hello: number }>(
      [
        { node: "a", socket: ok },
        { node: "b", socket: `${tmp}/absent.sock` },
        { node: "c", socket: hang },
      ],
      "/v1/x",
      300,
    );
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(r.answers).toEqual([{ ref: { node: "a", socket: ok }, value: { hello: 1 } }]);
    expect(r.unreachable.map((u) => [u.node, u.code])).toEqual([
      ["b", "agent-unreachable"],
      ["c", "agent-unreachable"],
    ]);
    expect(r.unreachable[0]?.reason).toContain("no socket there");
    expect(r.unreachable[1]?.reason).toContain("no answer within 300 ms");
  });
});

const isRoot = process.getuid?.() === 0;

async function cliTable(argv: string[]) {
  let out = "";
  let err = "";
  const code = await runCommandTable(CLI_COMMANDS as CommandTable, argv, {
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

describe("status outside a lab: this host's agent, the others as the datastore sees them", () => {
  const socket = `${tmp}/host-agent.sock`;
  beforeAll(() => {
    fakeAgent(socket, {
      "/v1/node/status": healthy("node-1"),
      "/v1/status": {
        clusterNodes: [
          { name: "node-1", underlayAddress: "10.0.0.1", ready: true, blocks: [] },
          {
            name: "node-2",
            underlayAddress: "10.0.0.2",
            ready: false,
            readyReason: "HeartbeatStale",
            heartbeat: "2026-12-05T09:00:00.000Z",
            blocks: [],
          },
          {
            name: "node-3",
            underlayAddress: "10.0.0.3",
            ready: true,
            heartbeat: "2026-12-05T10:00:00.000Z",
            blocks: [],
          },
        ],
      },
    });
  });

  test("the local agent only, named as it reports itself; exit 0", async () => {
    const r = await cliTable(["status", "--socket", socket, "-o", "json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { nodes: { name: string }[] }).nodes.map((n) => n.name)).toEqual(["node-1"]);
  });

  test("--all: the other nodes from their heartbeats; a stale one fails the exit status", async () => {
    const r = await cliTable(["status", "--socket", socket, "--all", "-o", "json"]);
    expect(r.code).toBe(1);
    const nodes = (JSON.parse(r.out) as { nodes: { name: string; ready: boolean; remote?: object }[] }).nodes;
    expect(nodes.map((n) => [n.name, n.ready, n.remote !== undefined])).toEqual([
      ["node-1", true, false],
      ["node-2", false, true],
      ["node-3", true, true],
    ]);
  });

  test("--node naming another node: the datastore's view of it; an unknown one is not found", async () => {
    const r = await cliTable(["status", "--socket", socket, "--node", "node-3"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^node-3\s+yes\s+vxlan\s+\(remote\)/m);
    const missing = await cliTable(["status", "--socket", socket, "--node", "node-9"]);
    if (isRoot) {
      // diagnose reads this host's kernel: it will not file it under another node's name.
      const bundle = `${tmp}/other.tar.gz`;
      const d = await cliTable(["diagnose", "--socket", socket, "--node", "node-3", "-o", bundle]);
      expect(d.code).toBe(2);
      expect(d.err).toContain(
        "this host is node node-1: diagnose reads this host's kernel and log, not node node-3's",
      );
      expect(existsSync(bundle)).toBe(false);
    }
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('this host\'s agent is node node-1 and knows no node "node-9"');
  });
});

// The commands read the lab's state (root's in a real lab): a fake lab root with three nodes,
// node-1's agent answers, node-2 has no agent, node-3's agent answers with an error.
describe.skipIf(!isRoot)("status, policy status and drops in a lab with one agent down", () => {
  const root = `${tmp}/labroot`;
  let before: string | undefined;
  beforeAll(() => {
    before = process.env.TARTAN_LAB_ROOT;
    process.env.TARTAN_LAB_ROOT = root;
    const nodes = ["node-1", "node-2", "node-3"].map((name) => {
      const dir = `${root}/fake1/${name}`;
      mkdirSync(dir, { recursive: true });
      return { name, dir, netns: `tl-fake1-${name}` };
    });
    writeFileSync(
      `${root}/fake1/lab.json`,
      JSON.stringify({ name: "fake1", backend: "vxlan", fabric: { netns: "tl-fake1-fabric" }, nodes }),
    );
    fakeAgent(`${nodes[0]!.dir}/agent.sock`, {
      "/v1/node/status": healthy("node-1"),
      "/v1/policy": { policies: { total: 1, local: 1 }, pods: [], problems: [] },
      "/v1/policy/drops": {
        drops: [
          { namespace: "a", pod: "p", direction: "ingress", packets: 3, bytes: 180, policies: ["a/deny"] },
        ],
      },
    });
    fakeAgent(`${nodes[2]!.dir}/agent.sock`, "fail");
  });
  afterAll(() => {
    if (before === undefined) delete process.env.TARTAN_LAB_ROOT;
    else process.env.TARTAN_LAB_ROOT = before;
  });

  const cli = cliTable;

  test("status: a row per node, the dead ones with their reason, exit 1", async () => {
    const r = await cli(["status", "--lab", "fake1"]);
    expect(r.code).toBe(1);
    const rows = r.out.split("\n").slice(1, 4);
    expect(rows[0]).toMatch(/^node-1\s+yes\s+vxlan\s+0\.1\.0\s+1m30s\s+ok 3ms\s+1\/1\s+2\s+1\s+healthy/);
    expect(rows[1]).toMatch(/^node-2\s+NO\s+vxlan\s+unreachable .*no socket there/);
    expect(rows[2]).toMatch(/^node-3\s+NO\s+vxlan\s+unreachable .*500.*boom/);
  });

  test("status -o json: the issue's shape", async () => {
    const r = await cli(["status", "--lab", "fake1", "-o", "json"]);
    const j = JSON.parse(r.out) as { nodes: Record<string, unknown>[] };
    expect(j.nodes.map((n) => [n.name, n.ready, n.backend])).toEqual([
      ["node-1", true, "vxlan"],
      ["node-2", false, "vxlan"],
      ["node-3", false, "vxlan"],
    ]);
    expect(j.nodes[0]?.peers).toEqual([
      { name: "node-2", ok: true, routes: [{ dst: "10.244.0.64/26", state: "ok" }] },
    ]);
    expect((j.nodes[0]!.agent as Record<string, unknown>).peers).toBeUndefined();
    expect(r.code).toBe(1);
  });

  test("status --node: only that node, in detail; exit 0 when it is healthy", async () => {
    const r = await cli(["status", "--lab", "fake1", "--node", "node-1"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("node-1: healthy");
    expect(r.out).toContain("datastore   reachable (3 ms), watch caught up");
    expect(r.out).toMatch(/PEER\s+OK\s+ROUTES/);
    expect((await cli(["status", "--lab", "fake1", "--node", "node-1", "--all"])).code).toBe(2);
  });

  test("policy status and drops: node-1's answer, the others named on stderr, exit 1", async () => {
    const s = await cli(["policy", "status", "--lab", "fake1", "-o", "json"]);
    expect(s.code).toBe(1);
    const j = JSON.parse(s.out) as { nodes: { node: string }[]; unreachable: { node: string }[] };
    expect(j.nodes.map((n) => n.node)).toEqual(["node-1"]);
    expect(j.unreachable.map((u) => u.node)).toEqual(["node-2", "node-3"]);
    expect(s.err).toContain("tartan: node node-2: agent unreachable:");
    const d = await cli(["policy", "drops", "--lab", "fake1"]);
    expect(d.code).toBe(1);
    expect(d.out).toMatch(/node-1\s+a\s+p\s+ingress\s+3\s+180\s+a\/deny/);
  });
});

describe("diagnose bundle parts", () => {
  test("redaction: secret values, inline keys and URL passwords go; file paths stay", () => {
    const text = [
      "nodeName: n1",
      "datastore:",
      "  type: etcd",
      "  endpoints: [https://root:hunter2@10.0.0.1:2379]",
      "  auth: { username: tartan, password: s3cret, passwordFile: /etc/tartan/etcd-pass }",
      "  tls: { caFile: /etc/ca.crt, keyFile: /etc/client.key }",
      "token: abc",
      "inline: |",
      "  -----BEGIN PRIVATE KEY-----",
      "  MIIEvQIBADANBg",
      "  -----END PRIVATE KEY-----",
    ].join("\n");
    const out = redactConfig(text);
    for (const secret of ["hunter2", "s3cret", "abc", "MIIEvQIBADANBg"]) expect(out).not.toContain(secret);
    expect(out).toContain(`https://${REDACTED}@10.0.0.1:2379`);
    expect(out).toContain("passwordFile: /etc/tartan/etcd-pass");
    expect(out).toContain("keyFile: /etc/client.key");
    expect(out).toContain("username: tartan");
    // Not YAML at all: redacted line by line, never passed through.
    const broken = redactConfig('password = "x1"\n  key: [unclosed\nnormal: 1');
    expect(broken).not.toContain("x1");
  });

  test("tar.gz: what goes in comes out, and the system's tar reads it", async () => {
    const gz = tarGz([
      { path: "b/MANIFEST.txt", content: "hello\n" },
      { path: "b/n1/big.txt", content: "x".repeat(1500) },
    ]);
    const files = untarGz(gz);
    expect(files.get("b/MANIFEST.txt")).toBe("hello\n");
    expect(files.get("b/n1/big.txt")?.length).toBe(1500);
    const f = `${tmp}/b.tar.gz`;
    writeFileSync(f, gz);
    const r = await run(["tar", "-tzf", f]);
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(["b/MANIFEST.txt", "b/n1/big.txt"]);
  });

  test("bounded: files are capped and say so; a log tail reads only the end", () => {
    expect(capped("abcdef", 4)).toBe("abcd\n[truncated: 2 more bytes]\n");
    const log = `${tmp}/agent.log`;
    writeFileSync(log, Array.from({ length: 5000 }, (_, i) => `line ${i}`).join("\n"));
    const tail = fileTail(log, 3);
    expect(tail.split("\n").filter(Boolean)).toEqual(["line 4997", "line 4998", "line 4999"]);
  });
});

describe("get: kinds, selectors, watch", () => {
  test("nodes, ippools, ipamblocks are readable; apply/delete/label refuse them", () => {
    expect(resourceKind("nodes", { readable: true }).kind).toBe("Node");
    expect(resourceKind("ipamblocks", { readable: true }).kind).toBe("IPAMBlock");
    expect(() => resourceKind("ippools")).toThrow("written by the tartan agents");
  });

  test("kubectl's selector syntax, evaluated by the model's matcher", () => {
    const s = parseSelector("app=web, tier!=db,env in (prod, stage),owner,!legacy");
    expect(s).toEqual({
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "NotIn", values: ["db"] },
        { key: "env", operator: "In", values: ["prod", "stage"] },
        { key: "owner", operator: "Exists" },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    });
    expect(selectorMatches(s, { app: "web", env: "prod", owner: "x" })).toBe(true);
    expect(selectorMatches(s, { app: "web", env: "prod", owner: "x", tier: "db" })).toBe(false);
    expect(selectorMatches(s, { app: "web", env: "dev", owner: "x" })).toBe(false);
    expect(() => parseSelector("a=b,(oops")).toThrow('cannot read "(oops"');
  });

  test("--watch: changes after the listing; an object leaving the selector is DELETED", async () => {
    const ds = new MemoryDatastore();
    await ds.create(pod("default/web", ["10.0.0.1"], { labels: { app: "web" } }));
    await ds.create(pod("default/db", ["10.0.0.2"], { labels: { app: "db" } }));
    const q = { kind: resourceKind("pods"), namespace: "default", selector: parseSelector("app=web") };
    const listed = await getObjects(ds, q);
    expect(listed.items.map((p) => p.metadata.name)).toEqual(["web"]);
    const events: WatchEvent[] = [];
    const stop = new AbortController();
    const done = watchObjects(ds, q, listed, (e) => events.push(e), stop.signal);
    await ds.create(pod("default/web2", ["10.0.0.3"], { labels: { app: "web" } }));
    await ds.create(pod("default/db2", ["10.0.0.4"], { labels: { app: "db" } }));
    const web = (await ds.get("Pod", "web", "default"))!;
    await ds.update({ ...web, metadata: { ...web.metadata, labels: { app: "other" } } });
    await eventually("two events", () => events.length >= 2, { timeoutMs: 3000 });
    stop.abort();
    await done;
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ["ADDED", "web2"],
      ["DELETED", "web"],
    ]);
  });
});
