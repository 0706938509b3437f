import { run } from "../exec/run.ts";
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
}

export interface LabMatrix {
  name: string;
  pods: { pod: string; node: string; ips: string[] }[];
  cells: MatrixCell[];
  ok: boolean;
  /** Ordered pairs (per target address) with both ping and TCP working, out of how many. */
  passed: number;
  total: number;
}

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
  const cells = await pool(jobs, PROBE_CONCURRENCY);
  const passed = cells.filter((c) => c.ping && c.tcp).length;
  return {
    name,
    pods: pods.map((p) => ({ pod: `${p.namespace}/${p.name}`, node: p.node, ips: p.ips })),
    cells,
    ok: passed === cells.length,
    passed,
    total: cells.length,
  };
}
