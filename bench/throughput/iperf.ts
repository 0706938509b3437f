// iperf3 inside namespaces: a server per destination pod (spawned here, stopped by its PID), and
// one-stream TCP client runs parsed from iperf3's JSON.
import { run } from "../../src/exec/run.ts";
import { stopProcess, trackProcess } from "../lab/cleanup.ts";

export interface IperfServer {
  netns: string;
  pid: number;
  stop(): Promise<void>;
}

/** `iperf3 -s` in `netns` (`ip netns exec` execs iperf3 itself, so the PID is iperf3's). */
export async function startIperfServer(netns: string, port = 5201): Promise<IperfServer> {
  const p = Bun.spawn(["ip", "netns", "exec", netns, "iperf3", "-s", "-p", String(port)], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  trackProcess(p);
  // Listening once a connect to the port succeeds from inside the namespace.
  for (let i = 0; i < 100; i++) {
    const r = await run(["ip", "netns", "exec", netns, "ss", "-Hltn", `sport = :${port}`], {
      allowFailure: true,
    });
    if (r.stdout.trim()) return { netns, pid: p.pid, stop: () => stopProcess(p.pid) };
    await Bun.sleep(50);
  }
  await stopProcess(p.pid);
  throw new Error(`iperf3 server in ${netns} did not start listening`);
}

export interface IperfResult {
  gbps: number;
  retransmits: number;
}

/** One TCP stream for `seconds` from `netns` to `addr`; Gbit/s as received by the server. */
export async function iperfClient(
  netns: string,
  addr: string,
  seconds: number,
  port = 5201,
): Promise<IperfResult> {
  const r = await run(
    ["ip", "netns", "exec", netns, "iperf3", "-c", addr, "-p", String(port), "-t", String(seconds), "-J"],
    { timeoutMs: (seconds + 20) * 1000, allowFailure: true },
  );
  let j: {
    error?: string;
    end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } };
  };
  try {
    j = JSON.parse(r.stdout);
  } catch {
    throw new Error(
      `iperf3 -c ${addr} in ${netns}: exit ${r.code}: ${r.stderr.trim() || r.stdout.slice(0, 200)}`,
    );
  }
  if (j.error || !j.end?.sum_received)
    throw new Error(`iperf3 -c ${addr} in ${netns}: ${j.error ?? "no result"}`);
  return { gbps: j.end.sum_received.bits_per_second / 1e9, retransmits: j.end.sum_sent?.retransmits ?? 0 };
}
