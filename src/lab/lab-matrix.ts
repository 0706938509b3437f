import { Explainer, type Explanation } from "../calc/explain.ts";
import type { ClusterSnapshot } from "../cli/cluster-snapshot.ts";
import { SNAPSHOT_COMMAND } from "../cli/snapshot-target.ts";
import { run } from "../exec/run.ts";
import { labObjectsCli } from "./lab-objects-cli.ts";
import type { LabState } from "./lab-state.ts";
import { requireLabState } from "./require-lab-state.ts";
import { responderBanner } from "./responder.ts";

export interface MatrixCell {
  from: string;
  to: string;
  ip: string;
  ping: boolean;
  tcp: boolean;
  /** What failed, when something did (the probe's error, or another pod's banner). */
  error?: string;
  /**
   * What NetworkPolicy says of the pair (tartan explain on the lab's objects): whether ping and
   * TCP to the responder are allowed, and the policies that deny what is denied. A cell is a
   * failure only when reality differs from this.
   */
  policy?: { ping: boolean; tcp: boolean; deniedBy?: string[] };
}

export interface LabMatrix {
  name: string;
  pods: { pod: string; node: string; ips: string[] }[];
  cells: MatrixCell[];
  ok: boolean;
  /** Ordered pairs (per target address) with both ping and TCP working, out of how many. */
  passed: number;
  total: number;
  /** Cells that failed exactly as NetworkPolicy says they must (not failures). */
  deniedByPolicy: number;
  /** Why no policy expectations were computed, when they were not. */
  policyUnknown?: string;
}

/** The policies that deny a direction of an explanation ("x/deny-all (ingress of x/a)"). */
function denying(e: Explanation): string[] {
  return (["egress", "ingress"] as const).flatMap((d) =>
    e[d].verdict === "denied" ? [`${e[d].policies.join(",")} (${d} of ${e[d].pod})`] : [],
  );
}

/** Explanations from the lab's objects (one process in the fabric namespace), or why not. */
async function labExplainer(state: LabState): Promise<Explainer | string> {
  try {
    const snapshot = JSON.parse(
      await labObjectsCli(state, [SNAPSHOT_COMMAND, "-o", "json"]),
    ) as ClusterSnapshot;
    return new Explainer({ ...snapshot, backend: state.backend });
  } catch (e) {
    return `policy not evaluated: ${(e as Error).message}`;
  }
}

/** Sets `policy` on a cell; a pair explain cannot resolve (a pod without recorded IPs) keeps none. */
function expectPolicy(ex: Explainer, c: MatrixCell, port: number): void {
  try {
    const tcp = ex.explain({ src: c.from, dst: c.ip, protocol: "TCP", port });
    const ping = ex.explain({ src: c.from, dst: c.ip, protocol: "ICMP" });
    const deniedBy = [...new Set([...denying(tcp), ...denying(ping)])];
    c.policy = {
      ping: ping.verdict === "allowed",
      tcp: tcp.verdict === "allowed",
      ...(deniedBy.length ? { deniedBy } : {}),
    };
  } catch {}
}

/** A cell is as it should be: both work, or what fails is what policy denies (and nothing more). */
const asExpected = (c: MatrixCell): boolean =>
  c.policy ? c.ping === c.policy.ping && c.tcp === c.policy.tcp : c.ping && c.tcp;

const PROBE_CONCURRENCY = 32;

async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}

/**
 * `tartan lab matrix`: from every pod to every other pod's addresses, one ping and one TCP
 * connection to its responder, all pairs in parallel with short timeouts. TCP counts only when
 * the banner names the pod that was meant (an answer from the wrong pod is a routing bug).
 * Each pair is also explained from the lab's objects (calc/explain.ts): a pair NetworkPolicy
 * denies is expected to fail, naming the policy, and is a failure only if it gets through.
 */
export async function labMatrix(name: string, timeoutMs = 2000): Promise<LabMatrix> {
  const { state } = requireLabState(name);
  const pods = state.pods.filter((p) => p.state === "ready");
  const jobs: (() => Promise<MatrixCell>)[] = [];
  for (const a of pods) {
    for (const b of pods) {
      if (a === b) continue;
      for (const cidr of b.ips) {
        const ip = cidr.split("/")[0]!;
        jobs.push(async () => {
          const inA = ["ip", "netns", "exec", a.netns];
          const seconds = String(Math.max(1, Math.round(timeoutMs / 1000)));
          const ping = run([...inA, "ping", "-n", "-q", "-c", "1", "-W", seconds, ip], {
            allowFailure: true,
            timeoutMs: timeoutMs + 3000,
          }).then(
            (r) => r.code === 0,
            () => false,
          );
          const tcp = run(
            [
              ...inA,
              state.tartan,
              "lab",
              "probe",
              "tcp",
              ip,
              String(b.port),
              "--timeout-ms",
              String(timeoutMs),
            ],
            { allowFailure: true, timeoutMs: timeoutMs + 3000 },
          ).then(
            (r) => {
              const want = responderBanner(b.namespace, b.name);
              if (r.code !== 0) return { ok: false, error: r.stderr.trim().split("\n").pop() };
              if (r.stdout.trim() !== want) return { ok: false, error: `answered by "${r.stdout.trim()}"` };
              return { ok: true };
            },
            (e: Error) => ({ ok: false, error: e.message }),
          );
          const [p, t] = await Promise.all([ping, tcp]);
          const cell: MatrixCell = {
            from: `${a.namespace}/${a.name}`,
            to: `${b.namespace}/${b.name}`,
            ip,
            ping: p,
            tcp: t.ok,
          };
          if (t.error) cell.error = t.error;
          else if (!p) cell.error = "no ping reply";
          return cell;
        });
      }
    }
  }
  const [cells, ex] = await Promise.all([pool(jobs, PROBE_CONCURRENCY), labExplainer(state)]);
  const port = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p.port]));
  if (typeof ex !== "string") for (const c of cells) expectPolicy(ex, c, port.get(c.to)!);
  const passed = cells.filter((c) => c.ping && c.tcp).length;
  const denied = cells.filter((c) => !(c.ping && c.tcp) && c.policy && asExpected(c)).length;
  return {
    name,
    pods: pods.map((p) => ({ pod: `${p.namespace}/${p.name}`, node: p.node, ips: p.ips })),
    cells,
    ok: cells.every(asExpected),
    passed,
    total: cells.length,
    deniedByPolicy: denied,
    ...(typeof ex === "string" ? { policyUnknown: ex } : {}),
  };
}
