// End to end on the lab: whole clusters in network namespaces on this machine, driven through the
// real CLI (`tartan lab …`), with real etcd, real agents and the real CNI plugin. The lab adds
// nothing to the root namespace; every test removes its lab (also on failure, also on a crash:
// see the exit hook) and then checks that no tl-<lab>-* namespace, process or dir is left.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { run } from "../../src/exec/run.ts";
import type { LabMatrix } from "../../src/lab/lab-matrix.ts";
import type { LabState } from "../../src/lab/lab-state.ts";
import { processStartTime } from "../../src/lab/process-start-time.ts";
import { eventually } from "../harness/eventually.ts";
import { isRoot } from "../harness/netns.ts";
import { privateTartanBin } from "../harness/tartan-binary.ts";

const T = 240_000;
const bin = isRoot ? await privateTartanBin("tartan-lab-test-") : "";
const tartan = `${bin}/tartan`;
const hasEtcd =
  isRoot && (await run(["etcd", "--version"], { allowFailure: true }).catch(() => null))?.code === 0;
const hasAgent =
  hasEtcd && (await run([tartan, "--help"], { allowFailure: true })).stdout.includes("tartan agent");
const labs = new Set<string>();

async function lab(args: string[], allowFailure = false) {
  return await run([tartan, "lab", ...args], { allowFailure, timeoutMs: 180_000 });
}

function newLab(prefix: string): string {
  const name = `${prefix}${Math.random().toString(36).slice(2, 8)}`;
  labs.add(name);
  return name;
}

function state(name: string): LabState {
  return JSON.parse(readFileSync(`/run/tartan-lab/${name}/lab.json`, "utf8")) as LabState;
}

/** Every process the lab recorded: etcd, agents, responders. */
function recordedProcesses(s: LabState): { pid: number; startTime: string }[] {
  return [
    ...(s.etcd ? [s.etcd] : []),
    ...s.nodes.flatMap((n) => (n.agent ? [n.agent] : [])),
    ...s.pods.flatMap((p) => (p.responder ? [p.responder] : [])),
  ];
}

async function downAndCheck(name: string, procs: { pid: number; startTime: string }[]): Promise<void> {
  const r = await lab(["down", "--lab", name]);
  labs.delete(name);
  expect(r.code).toBe(0);
  const left = readdirSync("/run/netns").filter((n) => n.startsWith(`tl-${name}-`));
  expect(left).toEqual([]);
  expect(procs.filter((p) => processStartTime(p.pid) === p.startTime)).toEqual([]);
  expect(existsSync(`/run/tartan-lab/${name}`)).toBe(false);
  // A second down finds nothing and still succeeds.
  expect((await lab(["down", "--lab", name])).code).toBe(0);
}

/**
 * The lab's etcd takes only clients with the lab's certificate (TLS + --client-cert-auth),
 * checked from inside a node namespace, where an attacker on the underlay would be: the JSON
 * gateway with curl (no certificate, plain HTTP, then the lab's certificate, which must work so
 * that the refusals are not something else), and the CLI without a client certificate.
 */
async function checkEtcdAuthentication(s: LabState): Promise<void> {
  const etcd = s.etcd!;
  expect(etcd.endpoint).toBe("https://198.18.0.1:2379");
  const tls = etcd.tls!;
  const pki = `/run/tartan-lab/${s.name}/pki`;
  expect(statSync(pki).mode & 0o777).toBe(0o700);
  for (const f of readdirSync(pki)) expect([f, statSync(`${pki}/${f}`).mode & 0o777]).toEqual([f, 0o600]);
  const node = s.nodes[1]!.netns;
  const curl = (...args: string[]) =>
    run(["ip", "netns", "exec", node, "curl", "-sS", "--max-time", "5", ...args], { allowFailure: true });
  const range = ["-d", '{"key":"L3RhcnRhbi8=","range_end":"L3RhcnRhbjA=","count_only":true}'];
  const noCert = await curl("--cacert", tls.caFile, ...range, `${etcd.endpoint}/v3/kv/range`);
  expect(noCert.code).not.toBe(0);
  expect(noCert.stdout).not.toContain("header");
  const plain = await curl(...range, "http://198.18.0.1:2379/v3/kv/range");
  expect(plain.code).not.toBe(0);
  expect(plain.stdout).not.toContain("header");
  // etcd's health endpoint (plain HTTP) is on the fabric's loopback only.
  expect((await curl("http://198.18.0.1:2381/health")).code).not.toBe(0);
  const withCert = await curl(
    "--cacert",
    tls.caFile,
    "--cert",
    tls.certFile,
    "--key",
    tls.keyFile,
    ...range,
    `${etcd.endpoint}/v3/kv/range`,
  );
  expect(withCert.stdout).toContain('"header"');
  const cli = await run(
    [
      "ip",
      "netns",
      "exec",
      node,
      tartan,
      "get",
      "pods",
      "-A",
      "--datastore",
      etcd.endpoint,
      "--etcd-ca",
      tls.caFile,
    ],
    { allowFailure: true, timeoutMs: 20_000 },
  );
  expect(cli.code).toBe(1);
  expect(cli.stderr).toContain("etcd refused our client certificate");
  expect(cli.stderr).not.toMatch(/\n\s+at /); // one coded line, no stack
}

/** The matrix, retried while agents converge (routes and VXLAN peers appear within seconds). */
async function matrixUntilGreen(name: string, timeoutMs = 60_000): Promise<LabMatrix> {
  const once = async () => {
    const r = await lab(["matrix", "--lab", name, "-o", "json", "--timeout-ms", "1500"], true);
    const m = JSON.parse(r.stdout) as LabMatrix;
    return m;
  };
  return await eventually("a green matrix", once, {
    timeoutMs,
    intervalMs: 1000,
    until: (m) => m.ok,
    onTimeout: "last",
  });
}

function syncDown(): void {
  for (const name of labs) Bun.spawnSync([tartan, "lab", "down", "--lab", name]);
  labs.clear();
}
process.on("exit", syncDown);

afterAll(async () => {
  for (const name of [...labs]) await lab(["down", "--lab", name], true);
  labs.clear();
  if (bin) rmSync(bin, { recursive: true, force: true });
});

describe.skipIf(!hasEtcd)("lab: fabric, nodes, etcd and pods (no agents)", () => {
  test(
    "two subnets routed by the fabric; pods on one node reach each other; down removes everything",
    async () => {
      const name = newLab("tn");
      await lab([
        "up",
        "--lab",
        name,
        "--nodes",
        "3",
        "--subnets",
        "2",
        "--backend",
        "cross-subnet",
        "--no-agents",
      ]);
      const s = state(name);
      expect(s.nodes.map((n) => n.underlayAddress)).toEqual(["198.18.0.11", "198.18.1.12", "198.18.0.13"]);
      // Nothing of the lab lives in the root namespace.
      expect((await run(["ip", "-o", "addr", "show", "to", "198.18.0.0/15"])).stdout).toBe("");
      expect((await run(["ip", "route", "show", "to", "root", "198.18.0.0/15"])).stdout).toBe("");
      // The underlay: node-1 (subnet 0) reaches node-2 (subnet 1) through the fabric, and etcd.
      await run(["ip", "netns", "exec", s.nodes[0]!.netns, "ping", "-c", "1", "-W", "2", "198.18.1.12"]);
      await checkEtcdAuthentication(s);

      const a = JSON.parse((await lab(["pod", "add", "node-1", "a", "--lab", name, "-o", "json"])).stdout);
      const b = JSON.parse(
        (await lab(["pod", "add", "node-1", "web/b", "--labels", "app=web", "--lab", name, "-o", "json"]))
          .stdout,
      );
      expect(a.ips[0]).toMatch(/^10\.244\.1\.\d+\/32$/);
      expect(b.namespace).toBe("web");
      expect(b.labels).toEqual({ app: "web" });
      const m = await matrixUntilGreen(name, 10_000);
      expect(m.cells.filter((c) => !(c.ping && c.tcp))).toEqual([]);
      expect(m.total).toBe(2);
      // exec returns the command's status; the command runs in the pod's namespace.
      expect((await lab(["exec", "a", "--lab", name, "--", "sh", "-c", "exit 3"], true)).code).toBe(3);
      const addr = await lab([
        "exec",
        "web/b",
        "--lab",
        name,
        "--",
        "ip",
        "-o",
        "-4",
        "addr",
        "show",
        "eth0",
      ]);
      expect(addr.stdout).toContain(b.ips[0]);

      const listing = JSON.parse((await lab(["ls", "--lab", name, "-o", "json"])).stdout);
      expect(listing.pods.map((p: { pod: string }) => p.pod)).toEqual(["default/a", "web/b"]);
      expect(listing.etcd.running).toBe(true);

      // pod rm: CNI DEL releases the address, the namespace goes.
      const procs = recordedProcesses(state(name));
      await lab(["pod", "rm", "a", "--lab", name]);
      expect(existsSync(`/run/netns/${a.netns}`)).toBe(false);
      expect(state(name).pods.map((p) => p.name)).toEqual(["b"]);
      expect((await lab(["pod", "rm", "a", "--lab", name], true)).code).toBe(1);
      await downAndCheck(name, procs);
    },
    T,
  );

  test(
    "an up that fails halfway (no etcd on PATH) removes what it made; a second up of a live lab is refused",
    async () => {
      const name = newLab("tf");
      // ip and sysctl live in /usr/sbin, etcd in /usr/bin: namespaces and underlay get made, etcd
      // fails (without TLS: openssl, in /usr/bin too, would fail first).
      const failed = await run(
        [tartan, "lab", "up", "--lab", name, "--nodes", "2", "--no-agents", "--insecure-etcd"],
        {
          allowFailure: true,
          env: { ...process.env, PATH: "/usr/sbin:/sbin" },
          timeoutMs: 60_000,
        },
      );
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain("etcd exited");
      expect(readdirSync("/run/netns").filter((n) => n.startsWith(`tl-${name}-`))).toEqual([]);
      expect(existsSync(`/run/tartan-lab/${name}`)).toBe(false);

      // --insecure-etcd: the opt-out, plain HTTP and no certificates.
      await lab(["up", "--lab", name, "--nodes", "1", "--no-agents", "--insecure-etcd"]);
      expect(state(name).etcd).toMatchObject({ endpoint: "http://198.18.0.1:2379" });
      expect(state(name).etcd?.tls).toBeUndefined();
      const again = await lab(["up", "--lab", name, "--nodes", "1", "--no-agents"], true);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already up");
      await downAndCheck(name, recordedProcesses(state(name)));
      // host-gw cannot span two subnets: refused before anything is created.
      const bad = await lab(["up", "--lab", name, "--backend", "host-gw", "--subnets", "2"], true);
      expect(bad.code).toBe(1);
      expect(readdirSync("/run/netns").filter((n) => n.startsWith(`tl-${name}-`))).toEqual([]);
      labs.delete(name);
    },
    T,
  );
});

/** The source address a one-shot TCP server in `serverNetns` sees for a connection from `clientNetns`. */
async function sourceSeen(
  serverNetns: string,
  clientNetns: string,
  ip: string,
  port: number,
): Promise<string> {
  const srv = Bun.spawn(
    [
      "ip",
      "netns",
      "exec",
      serverNetns,
      process.execPath,
      "-e",
      `const s=require('node:net').createServer(c=>c.end(c.remoteAddress+'\\n',()=>s.close()));s.listen(${port},'0.0.0.0')`,
    ],
    { stdout: "ignore", stderr: "inherit" },
  );
  try {
    const r = await run([
      "ip",
      "netns",
      "exec",
      clientNetns,
      process.execPath,
      `${import.meta.dir}/../fixtures/tcp-once.ts`,
      "client",
      ip,
      String(port),
    ]);
    return r.stdout.trim();
  } finally {
    srv.kill();
    await srv.exited;
  }
}

const backends = [
  { backend: "vxlan", subnets: 1 },
  { backend: "host-gw", subnets: 1 },
  { backend: "cross-subnet", subnets: 2 },
] as const;

describe.skipIf(!hasAgent)("lab: 3 nodes with agents, a pod on each, every pod reaches every other", () => {
  for (const { backend, subnets } of backends) {
    test(
      `${backend} (${subnets} underlay subnet${subnets > 1 ? "s" : ""})`,
      async () => {
        const name = newLab("t");
        await lab(["up", "--lab", name, "--nodes", "3", "--backend", backend, "--subnets", String(subnets)]);
        await Promise.all([1, 2, 3].map((i) => lab(["pod", "add", `node-${i}`, `p${i}`, "--lab", name])));
        const s = state(name);
        expect(s.nodes.every((n) => n.agent !== undefined)).toBe(true);
        expect(s.pods).toHaveLength(3);
        const m = await matrixUntilGreen(name);
        expect(m.cells.filter((c) => !(c.ping && c.tcp))).toEqual([]);
        expect(m.total).toBe(6);
        if (backend === "vxlan") {
          // Outgoing NAT (the lab's pool has natOutgoing): a pod reaching an address outside the
          // pools (node-2's underlay) appears as its node; reaching a pod it keeps its own address.
          const [p1, p2] = [s.pods.find((p) => p.name === "p1")!, s.pods.find((p) => p.name === "p2")!];
          expect(await sourceSeen(s.nodes[1]!.netns, p1.netns, s.nodes[1]!.underlayAddress, 9321)).toBe(
            s.nodes[0]!.underlayAddress,
          );
          expect(await sourceSeen(p2.netns, p1.netns, p2.ips[0]!.split("/")[0]!, 9322)).toBe(
            p1.ips[0]!.split("/")[0]!,
          );
        }
        await downAndCheck(name, recordedProcesses(state(name)));
      },
      T,
    );
  }
});
