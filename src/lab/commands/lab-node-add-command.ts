import { defineCommand } from "../../cli/command.ts";
import { LAB_OPTION } from "../../cli/common-options.ts";
import type { LabNode } from "../lab-state.ts";
import { nodeAdd } from "../node-add.ts";
import { labName } from "./lab-name.ts";

export const labNodeAddCommand = defineCommand<LabNode>({
  path: ["lab", "node", "add"],
  summary: "one more node (the next index) joins, with its agent",
  options: [LAB_OPTION],
  examples: ["tartan lab node add"],
  needsRoot: true,
  run: async (args) => await nodeAdd(labName(args)),
  render: (n) => `${n.name} joined: ${n.netns}, ${n.underlayAddress}, agent pid ${n.agent?.pid ?? "-"}\n`,
});
