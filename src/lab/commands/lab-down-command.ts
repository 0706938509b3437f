import { defineCommand } from "../../cli/command.ts";
import { LAB_OPTION } from "../../cli/common-options.ts";
import { pickLab } from "../../cli/labs-up.ts";
import { type LabDownResult, labDown } from "../lab-down.ts";
import { DEFAULT_LAB } from "./lab-up-command.ts";

export const labDownCommand = defineCommand<LabDownResult>({
  path: ["lab", "down"],
  summary: "stop everything of the lab and remove every tl-LAB-* namespace",
  description: "A lab that is not up is nothing to remove: exit 0.",
  options: [LAB_OPTION],
  examples: ["tartan lab down", "tartan lab down --lab lab2"],
  needsRoot: true,
  // No lab up and none named: the default lab, whose absence down reports as nothing to do.
  run: async (args) => await labDown(pickLab(args.get("lab")) ?? DEFAULT_LAB),
  render: (r) =>
    !r.existed
      ? `lab "${r.name}" was not up: nothing to remove\n`
      : `lab "${r.name}" removed: ${r.stopped.length} processes stopped (${r.stopped.map((s) => s.what).join(", ") || "none"}), ` +
        `${r.namespaces.length} namespaces deleted${r.leftovers.length ? `; LEFT: ${r.leftovers.join(", ")}` : ""}\n`,
  exitCode: (r) => (r.leftovers.length ? 1 : 0),
});
