// The bed of the NetworkPolicy scenarios: one lab (3 nodes, vxlan, dual-stack) with namespaces
// x, y, z and pods a, b, c in each (labels pod=<name>), spread over the nodes, each serving TCP
// and UDP on 80 and 81 under the upstream container-port names serve-<port>-<proto>. Policies
// go in with `tartan apply -f -`, labels change with `tartan lab label`, and a probe round runs
// one `tartan lab probe` per source pod (all its destinations at once, from inside its namespace).
//
// Upstream probes every pair through a Service ClusterIP (kube-proxy DNATs to the pod before the
// policy decides); tartan has no Services yet, so these probes go to the pod IPs directly.
import { stringify } from "yaml";
import { Explainer } from "../../../src/calc/explain.ts";
import type { ClusterSnapshot } from "../../../src/cli/cluster-snapshot.ts";
import { run } from "../../../src/exec/run.ts";
import { responderBanner } from "../../../src/lab/responder.ts";
import { eventually } from "../eventually.ts";
import { ALL_PODS, type PodKey, Reachability } from "./reachability.ts";

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface NetpolPod {
  key: PodKey;
  namespace: string;
  name: string;
  node: string;
  netns: string;
  ip4: string;
  ip6?: string;
}

export interface ProbeSpec {
  port: number;
  protocol: Protocol;
  family?: 4 | 6;
}

export interface ObservedCell {
  ok: boolean;
  /** Why a probe failed (the last attempt), or who answered instead. */
  error?: string;
}

export const SERVE_PORTS = [80, 81] as const;
export const POD_PORTS = SERVE_PORTS.flatMap((p) => [`serve-${p}-tcp:${p}/TCP`, `serve-${p}-udp:${p}/UDP`]);

/** Probe timeout: everything is in one machine's namespaces, so 600 ms is ample for an answer. */
const PROBE_TIMEOUT_MS = 600;

type Json = Record<string, unknown>;

export function yamlDocs(docs: readonly Json[]): string {
  return docs.map((d) => stringify(d)).join("---\n");
}

export class NetpolLab {
  pods: NetpolPod[] = [];
  nodes: { name: string; netns: string; socket: string; agentPid?: number }[] = [];
  up = false;

  constructor(
    readonly tartan: string,
    readonly name: string,
    /**
     * `kubernetes`: the lab runs its stand-in Kubernetes API server and its agents in Kubernetes
     * mode; policies go in and out with the real kubectl (`tartan lab kubectl -- apply -f -`).
     */
    readonly datastore: "etcd" | "kubernetes" = "etcd",
    /** Per-probe answer timeout and how long a check may take to settle (a loaded machine needs more). */
    readonly timing: { probeMs: number; settleMs: number } = { probeMs: PROBE_TIMEOUT_MS, settleMs: 6000 },
  ) {}

  /** As one JSON List: kubectl's YAML 1.1 reads a bare `y` (the namespace) as a boolean. */
  private kubeDocs(docs: readonly Json[]): string {
    return JSON.stringify({ apiVersion: "v1", kind: "List", items: docs });
  }

  private kubectl(args: string[], stdin?: string) {
    return this.cli(["lab", "kubectl", "--lab", this.name, "--", ...args], stdin);
  }

  async cli(args: string[], stdin?: string, allowFailure = false): Promise<{ code: number; out: string }> {
    const r = await run([this.tartan, ...args], { allowFailure: true, timeoutMs: 180_000, stdin });
    if (r.code !== 0 && !allowFailure) {
      throw new Error(`tartan ${args.join(" ")} failed (${r.code}): ${r.stderr}${r.stdout}`);
    }
    return { code: r.code, out: r.code === 0 ? r.stdout : `${r.stderr}${r.stdout}` };
  }

  /** Lab up, the three namespaces (with an extra ns=<name> label, as older upstream harnesses), the nine pods. */
  async start(nodes = 3): Promise<void> {
    this.up = true;
    await this.cli([
      "lab",
      "up",
      "--lab",
      this.name,
      "--nodes",
      String(nodes),
      "--ipv6",
      "--datastore",
      this.datastore,
    ]);
    const namespaces = ["x", "y", "z"].map((ns) => ({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns, labels: { ns } },
    }));
    if (this.datastore === "kubernetes") await this.kubectl(["apply", "-f", "-"], this.kubeDocs(namespaces));
    else await this.cli(["apply", "--lab", this.name, "-f", "-"], yamlDocs(namespaces));
    // Pods of one node at a time in parallel across nodes (each node's IPAM store is its own).
    const byNode = new Map<string, PodKey[]>();
    ALL_PODS.forEach((key, i) => {
      const node = `node-${(i % nodes) + 1}`;
      byNode.set(node, [...(byNode.get(node) ?? []), key]);
    });
    await Promise.all(
      [...byNode].map(async ([node, keys]) => {
        for (const key of keys) {
          const pod = key.split("/")[1]!;
          await this.cli([
            "lab",
            "pod",
            "add",
            node,
            key,
            "--labels",
            `pod=${pod}`,
            "--ports",
            POD_PORTS.join(","),
            "--lab",
            this.name,
          ]);
        }
      }),
    );
    await this.refresh();
  }

  /** Pods, IPs, nodes and agent sockets from `tartan lab ls -o json`. */
  async refresh(): Promise<void> {
    const ls = JSON.parse((await this.cli(["lab", "ls", "--lab", this.name, "-o", "json"])).out) as {
      dir: string;
      nodes: { name: string; netns: string; agentPid?: number }[];
      pods: { pod: string; node: string; netns: string; ips: string[] }[];
    };
    this.nodes = ls.nodes.map((n) => ({
      name: n.name,
      netns: n.netns,
      socket: `${ls.dir}/${n.name}/agent.sock`,
      agentPid: n.agentPid,
    }));
    this.pods = ls.pods.map((p) => {
      const [namespace, name] = p.pod.split("/") as [string, string];
      const ip4 = p.ips.find((i) => !i.includes(":"))?.split("/")[0];
      const ip6 = p.ips.find((i) => i.includes(":"))?.split("/")[0];
      if (!ip4) throw new Error(`pod ${p.pod} has no IPv4 address: ${p.ips.join(", ")}`);
      return { key: p.pod, namespace, name, node: p.node, netns: p.netns, ip4, ...(ip6 ? { ip6 } : {}) };
    });
  }

  pod(key: PodKey): NetpolPod {
    const p = this.pods.find((x) => x.key === key);
    if (!p) throw new Error(`no pod ${key}`);
    return p;
  }

  /** Sum of every agent's `tartan_policy_applies_total` (a change makes every agent apply once more). */
  async appliesPerNode(): Promise<number[]> {
    return await Promise.all(
      this.nodes.map(async (n) => {
        try {
          const res = await fetch("http://tartan-agent/metrics", {
            unix: n.socket,
            signal: AbortSignal.timeout(2000),
          });
          const m = /^tartan_policy_applies_total (\d+)/m.exec(await res.text());
          return m ? Number(m[1]) : -1;
        } catch {
          return -1;
        }
      }),
    );
  }

  /**
   * Runs a change (apply, delete, label) and waits, bounded, until every agent has applied once
   * more after it: each agent mirrors every Pod, Namespace and NetworkPolicy, so each change
   * triggers an apply on every node. Returns how long that took (ms).
   */
  async change(fn: () => Promise<unknown>, timeoutMs = 5000): Promise<number> {
    const before = await this.appliesPerNode();
    const t0 = performance.now();
    await fn();
    await eventually("an apply on every node", () => this.appliesPerNode(), {
      timeoutMs,
      intervalMs: 20,
      until: (now) => now.every((v, i) => v > before[i]!),
      onTimeout: "last",
    });
    return performance.now() - t0;
  }

  async apply(docs: readonly Json[]): Promise<number> {
    if (this.datastore === "kubernetes")
      return await this.change(() => this.kubectl(["apply", "-f", "-"], this.kubeDocs(docs)));
    return await this.change(() => this.cli(["apply", "--lab", this.name, "-f", "-"], yamlDocs(docs)));
  }

  async deleteObjects(docs: readonly Json[]): Promise<number> {
    if (this.datastore === "kubernetes")
      return await this.change(() => this.kubectl(["delete", "-f", "-"], this.kubeDocs(docs)));
    return await this.change(() => this.cli(["delete", "--lab", this.name, "-f", "-"], yamlDocs(docs)));
  }

  async listPolicies(): Promise<Json[]> {
    const out = (
      this.datastore === "kubernetes"
        ? await this.kubectl(["get", "networkpolicies", "-A", "-o", "json"])
        : await this.cli(["get", "networkpolicies", "-A", "--lab", this.name, "-o", "json"])
    ).out;
    return (JSON.parse(out) as { items: Json[] }).items;
  }

  /** Deletes every NetworkPolicy of the lab (between cases). */
  async deleteAllPolicies(): Promise<void> {
    const items = await this.listPolicies();
    if (items.length) await this.deleteObjects(items);
  }

  async label(kind: "pod" | "namespace", name: string, changes: string[]): Promise<number> {
    return await this.change(() => this.cli(["lab", "label", kind, name, ...changes, "--lab", this.name]));
  }

  /** One `tartan lab probe` from inside `netns` to all `hosts` at once; a result per host. */
  async probeFrom(
    netns: string,
    hosts: string[],
    spec: ProbeSpec,
  ): Promise<Map<string, ObservedCell & { answer?: string }>> {
    const out = new Map<string, ObservedCell & { answer?: string }>();
    if (hosts.length === 0) return out;
    const proto = spec.protocol.toLowerCase();
    // A single host prints its answer bare; two or more print JSON lines. Ask twice for one.
    const list = hosts.length === 1 ? [hosts[0]!, hosts[0]!] : hosts;
    const r = await run(
      [
        "ip",
        "netns",
        "exec",
        netns,
        this.tartan,
        "lab",
        "probe",
        proto,
        list.join(","),
        String(spec.port),
        "--timeout-ms",
        String(this.timing.probeMs),
      ],
      { allowFailure: true, timeoutMs: 30_000 },
    );
    for (const line of r.stdout.split("\n").filter(Boolean)) {
      const row = JSON.parse(line) as { host: string; answer?: string; error?: string };
      out.set(row.host, { ok: row.answer !== undefined, answer: row.answer, error: row.error });
    }
    for (const h of hosts)
      if (!out.has(h)) out.set(h, { ok: false, error: `probe failed: ${r.stderr.trim()}` });
    return out;
  }

  /**
   * Every ordered pair (self→self excluded) on one port/protocol/family, in parallel: one process
   * per source pod. A cell counts as reachable only when the intended pod answered. A failed
   * cell is probed once more (upstream retries each probe), so a lost packet is not a verdict.
   */
  async probeMatrix(spec: ProbeSpec): Promise<{ reach: Reachability; cells: Map<string, ObservedCell> }> {
    const family = spec.family ?? 4;
    const addr = (p: NetpolPod) => (family === 6 ? p.ip6 : p.ip4);
    const cells = new Map<string, ObservedCell>();
    const round = async (todo: (from: NetpolPod) => NetpolPod[]) => {
      await Promise.all(
        this.pods.map(async (a) => {
          const targets = todo(a);
          const hosts = targets.map((b) => {
            const ip = addr(b);
            if (!ip) throw new Error(`pod ${b.key} has no IPv${family} address`);
            return ip;
          });
          const res = await this.probeFrom(a.netns, hosts, spec);
          for (const b of targets) {
            const c = res.get(addr(b)!)!;
            const want = responderBanner(b.namespace, b.name);
            const ok = c.ok && c.answer === want;
            cells.set(
              `${a.key}>${b.key}`,
              ok ? { ok } : { ok, error: c.error ?? `answered by "${c.answer}"` },
            );
          }
        }),
      );
    };
    await round((a) => this.pods.filter((b) => b !== a));
    await round((a) => this.pods.filter((b) => b !== a && !cells.get(`${a.key}>${b.key}`)!.ok));
    const keys = this.pods.map((p) => p.key);
    const reach = Reachability.from(keys, (a, b) => a === b || cells.get(`${a}>${b}`)!.ok);
    return { reach, cells };
  }

  /**
   * Probes until the matrix equals `expected` or `timeoutMs` has passed (upstream re-probes the
   * whole matrix once when anything mismatched; agents apply within ~100 ms, so a bounded poll
   * costs nothing when all is well). Returns the last observation.
   */
  async probeUntil(
    spec: ProbeSpec,
    expected: Reachability,
    timeoutMs = this.timing.settleMs,
  ): Promise<{ reach: Reachability; cells: Map<string, ObservedCell>; rounds: number }> {
    let rounds = 0;
    const got = await eventually(
      "the expected matrix",
      () => {
        rounds++;
        return this.probeMatrix(spec);
      },
      {
        timeoutMs,
        intervalMs: 0,
        until: (g) => expected.mismatches(g.reach).length === 0,
        onTimeout: "last",
      },
    );
    return { ...got, rounds };
  }

  /**
   * `tartan explain` for this lab's current objects, in-process: one CLI call reads the objects
   * (as the agents mirror them) from inside the lab, then every pair is explained here.
   */
  async explainer(): Promise<Explainer> {
    const out = (await this.cli(["cluster-snapshot", "--lab", this.name, "-o", "json"])).out;
    return new Explainer({ ...(JSON.parse(out) as ClusterSnapshot), backend: "vxlan" });
  }

  /** explain's verdicts as a matrix on one port/protocol/family (self→self: reachable). */
  explainMatrix(ex: Explainer, spec: ProbeSpec): Reachability {
    const addr = (p: NetpolPod) => (spec.family === 6 ? p.ip6! : p.ip4);
    return Reachability.from(
      this.pods.map((p) => p.key),
      (a, b) =>
        a === b ||
        ex.explain({
          src: addr(this.pod(a)),
          dst: addr(this.pod(b)),
          protocol: spec.protocol,
          port: spec.port,
        }).verdict === "allowed",
    );
  }

  /** The node's policy ruleset (for failure reports). */
  async nftRuleset(node: string): Promise<string> {
    const n = this.nodes.find((x) => x.name === node);
    if (!n) return "";
    const r = await run(["ip", "netns", "exec", n.netns, "nft", "list", "table", "inet", "tartan"], {
      allowFailure: true,
    });
    return r.stdout || r.stderr;
  }

  async down(): Promise<void> {
    if (!this.up) return;
    await run([this.tartan, "lab", "down", "--lab", this.name], { allowFailure: true, timeoutMs: 180_000 });
    this.up = false;
  }

  /** For process exit hooks: synchronous. */
  downSync(): void {
    if (this.up) Bun.spawnSync([this.tartan, "lab", "down", "--lab", this.name]);
    this.up = false;
  }
}
