import { defineCommand } from "../../cli/command.ts";
import { LAB_OPTION, NAMESPACE_OPTION } from "../../cli/common-options.ts";
import { parsePodRef } from "../../cli/pod-ref.ts";
import { type PodRmResult, podRm } from "../pod-rm.ts";
import { labName } from "./lab-name.ts";

export const labPodRmCommand = defineCommand<PodRmResult>({
  path: ["lab", "pod", "rm"],
  summary: "CNI DEL, then remove the pod's namespace",
  args: [{ name: "POD" }],
  options: [LAB_OPTION, NAMESPACE_OPTION],
  examples: ["tartan lab pod rm web", "tartan lab pod rm shop/api"],
  needsRoot: true,
  run: async (args) =>
    await podRm({ lab: labName(args), pod: parsePodRef(args.positionals[0]!, args.get("namespace")) }),
  render: (r) => `pod ${r.pod} removed from ${r.node} (released ${r.released.join(", ") || "nothing"})\n`,
});
