import { defineCommand } from "../../cli/command.ts";
import { LAB_OPTION, NAMESPACE_OPTION } from "../../cli/common-options.ts";
import { parsePodRef } from "../../cli/pod-ref.ts";
import { TartanError } from "../../errors/tartan-error.ts";
import { parseLabPodPorts } from "../lab-pod-ports.ts";
import { type LabPodView, podAdd } from "../pod-add.ts";
import { labName } from "./lab-name.ts";

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const kv of (text ?? "").split(",").filter(Boolean)) {
    const eq = kv.indexOf("=");
    if (eq <= 0)
      throw new TartanError(
        "cli-usage",
        `label "${kv}" is not key=value`,
        "e.g. --labels app=web,tier=front",
      );
    labels[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return labels;
}

export const labPodAddCommand = defineCommand<LabPodView>({
  path: ["lab", "pod", "add"],
  summary: "a pod on a node: its Pod object in the lab's etcd, then the real CNI ADD",
  description:
    "Writes the Pod (labels, node, named ports; its Namespace if missing) to the lab's etcd,\n" +
    "then runs the real CNI ADD and a TCP responder in the pod. POD is POD or NAMESPACE/POD.",
  args: [{ name: "NODE" }, { name: "POD" }],
  options: [
    LAB_OPTION,
    NAMESPACE_OPTION,
    { name: "labels", value: "K=V,...", description: "the pod's labels" },
    {
      name: "ports",
      value: "NAME:PORT/PROTO,...",
      description: "named container ports (what policies name)",
    },
  ],
  examples: [
    "tartan lab pod add node-1 web",
    "tartan lab pod add node-2 shop/api --labels app=api --ports http:80/TCP",
  ],
  needsRoot: true,
  run: async (args) => {
    const [node, pod] = args.positionals as [string, string];
    return await podAdd({
      lab: labName(args),
      node,
      pod: parsePodRef(pod, args.get("namespace")),
      labels: parseLabels(args.get("labels")),
      ports: parseLabPodPorts(args.get("ports")),
    });
  },
  render: (p) => `pod ${p.namespace}/${p.name} on ${p.node}: ${p.ips.join(", ")} (${p.netns})\n`,
});
