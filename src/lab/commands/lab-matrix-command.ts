import { defineCommand } from "../../cli/command.ts";
import { LAB_OPTION } from "../../cli/common-options.ts";
import { formatMatrix } from "../format-matrix.ts";
import { type LabMatrix, labMatrix } from "../lab-matrix.ts";
import { saveLastMatrix } from "../last-matrix.ts";
import { labName } from "./lab-name.ts";

export const labMatrixCommand = defineCommand<LabMatrix>({
  path: ["lab", "matrix"],
  summary: "ping + TCP from every pod to every other pod (exit 1 when one fails)",
  options: [LAB_OPTION, { name: "timeout-ms", value: "MS", description: "per probe", default: "2000" }],
  examples: ["tartan lab matrix", "tartan lab matrix -o json --timeout-ms 1500"],
  needsRoot: true,
  run: async (args) =>
    saveLastMatrix(labName(args), await labMatrix(labName(args), args.int("timeout-ms", 100, 60_000))),
  render: formatMatrix,
  exitCode: (m) => (m.ok ? 0 : 1),
});
