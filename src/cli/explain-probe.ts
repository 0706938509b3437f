import type { Explanation } from "../calc/explain.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import type { LabFileFields } from "./lab-file.ts";

/** What `explain --probe` saw when it sent the traffic for real. */
export interface ProbeOutcome {
  /** e.g. "TCP 10.244.0.5:80 from x/b (netns tl-lab-x-b)". */
  sent: string;
  /** connected: an answer; refused: a reset or port unreachable (the packet got through); no-answer: dropped. */
  result: "connected" | "refused" | "no-answer" | "error";
  reality: "allowed" | "denied" | "unknown";
  /** Whether reality is what explain said (absent when reality is unknown). */
  agrees?: boolean;
  detail: string;
}

/**
 * Sends the explained traffic for real, from inside the source's network namespace (a lab pod,
 * or a lab node for a node address), with the probe `lab matrix` uses: one TCP connection or
 * UDP datagram. A reset counts as allowed (policy drops, it never rejects), silence as denied.
 */
export async function probeExplanation(
  e: Explanation,
  lab: LabFileFields | undefined,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  if (!lab) {
    throw new TartanError(
      "cli-usage",
      "--probe needs a lab (it sends from inside the source pod's network namespace, which a lab records)",
      "run it on a lab (--lab NAME), or drop --probe; on a cluster, send the traffic from the pod itself (kubectl exec)",
    );
  }
  const [ns, name] = (e.src.pod ?? "/").split("/");
  const netns =
    lab.pods.find((p) => p.namespace === ns && p.name === name)?.netns ??
    (e.src.kind === "node" ? lab.nodes.find((n) => n.name === e.src.node)?.netns : undefined);
  if (!netns) {
    throw new TartanError(
      "cli-usage",
      `--probe: ${e.src.input} is not a pod or node of lab "${lab.name}"`,
      "probe from a lab pod (NS/POD, tartan lab ls lists them)",
    );
  }
  const sent = `${e.protocol} ${e.dst.ip.includes(":") ? `[${e.dst.ip}]` : e.dst.ip}:${e.port} from ${e.src.pod ?? e.src.input} (netns ${netns})`;
  if (e.protocol === "SCTP") {
    return {
      sent,
      result: "error",
      reality: "unknown",
      detail: "the lab's probe has no SCTP (Bun has no SCTP sockets)",
    };
  }
  const r = await run(
    [
      lab.tartan,
      "lab",
      "probe",
      e.protocol.toLowerCase(),
      e.dst.ip,
      String(e.port),
      "--timeout-ms",
      String(timeoutMs),
    ],
    { netns: `/run/netns/${netns}`, allowFailure: true, timeoutMs: timeoutMs + 10_000 },
  );
  const err = r.stderr.trim().split("\n").pop() ?? "";
  let out: Omit<ProbeOutcome, "sent" | "agrees">;
  if (r.code === 0) out = { result: "connected", reality: "allowed", detail: `answered: ${r.stdout.trim()}` };
  else if (/refused|unreachable/i.test(err))
    out = { result: "refused", reality: "allowed", detail: `reached, nothing listens: ${err}` };
  else if (/no answer within/.test(err))
    out = {
      result: "no-answer",
      reality: "denied",
      detail: `${err.replace(/^tartan: /, "")}${e.protocol === "UDP" ? " (for UDP also: nothing listens there)" : ""}`,
    };
  else out = { result: "error", reality: "unknown", detail: err || `exit ${r.code}` };
  return { sent, ...out, ...(out.reality !== "unknown" ? { agrees: out.reality === e.verdict } : {}) };
}
