import { defineCommand } from "../../cli/command.ts";
import { LAB_OPTION, NAMESPACE_OPTION } from "../../cli/common-options.ts";
import { parsePodRef } from "../../cli/pod-ref.ts";
import type { Resource } from "../../model/resource.ts";
import { labLabel } from "../lab-label.ts";
import { labName } from "./lab-name.ts";

export const labLabelCommand = defineCommand<{ obj: Resource; shown: string }>({
  path: ["lab", "label"],
  summary: "change labels of a lab pod or namespace (what policies select on)",
  description: "k=v sets a label, k- removes it. A pod is POD or NAMESPACE/POD.",
  args: [
    { name: "KIND", values: ["pod", "namespace"] },
    { name: "NAME" },
    { name: "CHANGE", variadic: true },
  ],
  options: [LAB_OPTION, NAMESPACE_OPTION],
  examples: ["tartan lab label pod shop/api tier- role=backend", "tartan lab label namespace shop env=prod"],
  needsRoot: true,
  run: async (args) => {
    const [kind, target, ...changes] = args.positionals as ["pod" | "namespace", string, ...string[]];
    const ref = kind === "pod" ? parsePodRef(target, args.get("namespace")) : undefined;
    const obj = await labLabel({
      lab: labName(args),
      kind,
      name: ref?.name ?? target,
      namespace: ref?.namespace ?? "",
      changes,
    });
    return { obj, shown: `${kind} ${ref ? `${ref.namespace}/` : ""}${obj.metadata.name}` };
  },
  json: (r) => r.obj,
  render: ({ obj, shown }) => {
    const labels = Object.entries(obj.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`);
    return `${shown}: ${labels.join(",") || "no labels"}\n`;
  },
});
