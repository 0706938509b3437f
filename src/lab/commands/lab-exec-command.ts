import { defineCommand, Exited } from "../../cli/command.ts";
import { LAB_OPTION, NAMESPACE_OPTION } from "../../cli/common-options.ts";
import { parsePodRef } from "../../cli/pod-ref.ts";
import { labExec } from "../lab-exec.ts";
import { labName } from "./lab-name.ts";

export const labExecCommand = defineCommand({
  path: ["lab", "exec"],
  summary: "run CMD inside the pod's network namespace (exits with CMD's status)",
  description:
    "POD may also be `outside` (the client behind the ToR) or `tor` (the fabric namespace the\n" +
    "ToR's FRR runs in) in a lab made with --tor.",
  args: [{ name: "POD" }],
  rest: "CMD...",
  options: [LAB_OPTION, NAMESPACE_OPTION],
  examples: [
    "tartan lab exec web -- ip addr",
    "tartan lab exec shop/api -- ping -c 1 10.244.1.2",
    "tartan lab exec outside -- ping -c 1 10.244.1.2",
  ],
  needsRoot: true,
  run: async (args) =>
    new Exited(
      await labExec(labName(args), parsePodRef(args.positionals[0]!, args.get("namespace")), [...args.rest]),
    ),
});
