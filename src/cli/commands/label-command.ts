import { defineCommand } from "../command.ts";
import { NAMESPACE_OPTION } from "../common-options.ts";
import { type LabelResult, labelObject, parseLabelChange } from "../label-object.ts";
import { resourceKind } from "../resource-kind.ts";
import { OBJECTS_DESCRIPTION } from "./apply-command.ts";
import { RESOURCE_KINDS } from "./get-command.ts";
import { objectName } from "./object-name.ts";
import { onTarget, TARGET_OPTIONS } from "./objects-target.ts";

export const labelCommand = defineCommand<LabelResult & { shown: string }>({
  path: ["label"],
  summary: "set (k=v) or remove (k-) labels of a Pod, Namespace or NetworkPolicy",
  description: `${OBJECTS_DESCRIPTION}\nA pod NAME may be NS/POD.`,
  args: [{ name: "KIND", suggest: RESOURCE_KINDS }, { name: "NAME" }, { name: "CHANGE", variadic: true }],
  options: [NAMESPACE_OPTION, ...TARGET_OPTIONS],
  examples: ["tartan label pod shop/web tier=front app-", "tartan label ns shop env=prod"],
  run: async (args, { io }) => {
    const [kindText, nameText, ...changeTexts] = args.positionals as [string, string, ...string[]];
    // Usage errors come out before any datastore is contacted.
    const kind = resourceKind(kindText);
    const changes = changeTexts.map(parseLabelChange);
    const { name, namespace } = objectName(kind, nameText, args.get("namespace"));
    return await onTarget(
      args,
      io,
      () => ({
        argv: [
          "label",
          ...args.positionals,
          ...(args.has("namespace") ? ["-n", args.get("namespace")!] : []),
        ],
      }),
      async (ds) => ({
        ...(await labelObject(ds, kind, name, namespace, changes)),
        shown: `${kind.prefix}/${nameText}`,
      }),
    );
  },
  json: (r) => r.object,
  render: (r) => `${r.shown} ${r.changed ? "labeled" : "not labeled (no change)"}\n`,
});
