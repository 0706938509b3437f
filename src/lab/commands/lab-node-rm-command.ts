import { defineCommand } from "../../cli/command.ts";
import { LAB_OPTION } from "../../cli/common-options.ts";
import { type NodeRmResult, nodeRm } from "../node-rm.ts";
import { labName } from "./lab-name.ts";

export const labNodeRmCommand = defineCommand<NodeRmResult>({
  path: ["lab", "node", "rm"],
  summary: "delete its pods, stop its agent, delete its Node and IPAMBlocks, remove its namespace",
  args: [{ name: "NODE" }],
  options: [LAB_OPTION],
  examples: ["tartan lab node rm node-3"],
  needsRoot: true,
  run: async (args) => await nodeRm(labName(args), args.positionals[0]!),
  render: (r) =>
    `${r.node} removed: pods ${r.pods.join(", ") || "none"}, agent ${r.agentStopped ?? "not running"}, ` +
    `datastore: Node ${r.datastore.nodeDeleted ? "deleted" : "absent"}, blocks ${r.datastore.blocks.join(", ") || "none"}\n`,
});
