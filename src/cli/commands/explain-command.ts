import { Explainer } from "../../calc/explain.ts";
import type { Protocol } from "../../model/k8s-resources.ts";
import { isRoutingBackend, ROUTING_BACKENDS } from "../../model/routing-backend.ts";
import { defineCommand } from "../command.ts";
import { usageError } from "../command-args.ts";
import { probeExplanation } from "../explain-probe.ts";
import { type ExplainResult, formatExplanation } from "../format-explanation.ts";
import { readSnapshotTarget } from "../snapshot-target.ts";
import { TARGET_OPTIONS } from "./objects-target.ts";

/** `80`, `80/TCP`, `53/udp` → port and protocol. */
export function parsePortOption(text: string): { port: number; protocol: Protocol } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(text);
  const port = Number(m?.[1]);
  if (!m || port < 1 || port > 65535) {
    throw usageError(`--port "${text}" is not N[/TCP|UDP|SCTP] with N from 1 to 65535`, "tartan explain");
  }
  return { port, protocol: (m[2]?.toUpperCase() ?? "TCP") as Protocol };
}

export const explainCommand = defineCommand<ExplainResult>({
  path: ["explain"],
  summary: "why SRC can or cannot reach DST: path, isolating policies, the rule that decides",
  description:
    "SRC and DST are pods (NS/POD) or IP addresses. Computed from the cluster's objects with the\n" +
    "policy compiler and routing calculation the agents run: the path (source node, backend, next\n" +
    "hop or tunnel, destination node), the egress isolation of SRC and the ingress isolation of\n" +
    "DST, each with the policies that select the pod and the exact rule (policy, rule index, peer,\n" +
    "port) that allows the traffic, or the policies that isolate it when none does. --probe also\n" +
    "sends the traffic for real from SRC's network namespace (a lab) and says whether reality\n" +
    "agrees. Exit status 0 when allowed (and, with --probe, reality agrees), 1 otherwise.",
  args: [{ name: "SRC" }, { name: "DST" }],
  options: [
    {
      name: "port",
      value: "N[/PROTO]",
      description:
        "destination port and protocol (TCP, UDP, SCTP; default: DST's first container port, else 8080/TCP)",
    },
    { name: "probe", description: "also send the traffic (lab only) and compare" },
    {
      name: "timeout-ms",
      value: "MS",
      description: "with --probe: how long to wait for an answer",
      default: "1500",
    },
    {
      name: "backend",
      value: "NAME",
      description: "the nodes' routing backend, for the path (default: the lab's)",
      values: ROUTING_BACKENDS,
    },
    ...TARGET_OPTIONS,
  ],
  examples: [
    "tartan explain x/b x/a --port 80",
    "tartan explain shop/web 10.244.2.7 --port 5432/TCP -o json",
    "tartan explain y/a x/a --port 81/UDP --probe --lab lab1",
  ],
  run: async (args) => {
    const [src, dst] = args.positionals as [string, string];
    const port = args.has("port") ? parsePortOption(args.get("port")!) : undefined;
    const { snapshot, lab } = await readSnapshotTarget(args);
    const backend = args.get("backend") ?? lab?.backend;
    const ex = new Explainer({
      ...snapshot,
      ...(backend && isRoutingBackend(backend) ? { backend } : {}),
    });
    const e: ExplainResult = ex.explain({ src, dst, ...(port ?? {}) });
    if (args.flag("probe")) e.probe = await probeExplanation(e, lab, args.int("timeout-ms", 100, 60_000)!);
    return e;
  },
  render: formatExplanation,
  exitCode: (e) => (e.verdict === "allowed" && e.probe?.agrees !== false ? 0 : 1),
});
