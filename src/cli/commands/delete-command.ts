import { defineCommand } from "../command.ts";
import { NAMESPACE_OPTION } from "../common-options.ts";
import { type DeleteResult, deleteObjects } from "../delete-objects.ts";
import { formatChangeLines } from "../format-objects.ts";
import { parseManifests } from "../parse-manifests.ts";
import { OBJECTS_DESCRIPTION } from "./apply-command.ts";
import { onTarget, TARGET_OPTIONS } from "./objects-target.ts";
import { FILE_OPTION, listOf, readManifestSources } from "./read-manifest-sources.ts";

export const deleteCommand = defineCommand<DeleteResult[]>({
  path: ["delete"],
  summary: "delete the objects of YAML files (a Namespace takes its Pods and NetworkPolicies along)",
  description: OBJECTS_DESCRIPTION,
  options: [
    FILE_OPTION,
    NAMESPACE_OPTION,
    { name: "ignore-not-found", description: "exit 0 when an object is already gone" },
    ...TARGET_OPTIONS,
  ],
  examples: ["tartan delete -f policy.yaml --ignore-not-found"],
  run: async (args, { io }) => {
    const objects = parseManifests(await readManifestSources(args.all("file"), io), args.get("namespace"));
    return await onTarget(
      args,
      io,
      () => ({
        argv: ["delete", "-f", "-", ...(args.flag("ignore-not-found") ? ["--ignore-not-found"] : [])],
        stdin: listOf(objects),
      }),
      (ds) => deleteObjects(ds, objects),
    );
  },
  render: formatChangeLines,
  exitCode: (results, io, args) => {
    const missing = results.filter((r) => r.action === "not found");
    if (missing.length === 0 || args.flag("ignore-not-found")) return 0;
    for (const r of missing)
      io.err(
        `tartan: ${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name} not found (--ignore-not-found to accept)\n`,
      );
    return 1;
  },
});
