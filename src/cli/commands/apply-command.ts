import { type ApplyResult, applyObjects } from "../apply-objects.ts";
import { defineCommand } from "../command.ts";
import { NAMESPACE_OPTION } from "../common-options.ts";
import { formatChangeLines } from "../format-objects.ts";
import { parseManifests } from "../parse-manifests.ts";
import { onTarget, TARGET_OPTIONS } from "./objects-target.ts";
import { FILE_OPTION, listOf, readManifestSources } from "./read-manifest-sources.ts";

export const OBJECTS_DESCRIPTION =
  "Acts on the lab that is up (or --lab NAME), on --datastore etcd=URL|local=PATH, or on the\n" +
  "datastore of an agent config (--config FILE).";

export const applyCommand = defineCommand<ApplyResult[]>({
  path: ["apply"],
  summary: "create or update Pods, Namespaces, NetworkPolicies from YAML (all validated before any write)",
  description: OBJECTS_DESCRIPTION,
  options: [FILE_OPTION, NAMESPACE_OPTION, ...TARGET_OPTIONS],
  examples: ["tartan apply -f policy.yaml", "cat objects.yaml | tartan apply -f - --lab lab2"],
  run: async (args, { io }) => {
    // Input is read and validated before any datastore is contacted.
    const objects = parseManifests(await readManifestSources(args.all("file"), io), args.get("namespace"));
    // The inner run gets the validated objects on stdin (namespaces already filled in: no -n).
    return await onTarget(
      args,
      io,
      () => ({ argv: ["apply", "-f", "-"], stdin: listOf(objects) }),
      (ds) => applyObjects(ds, objects),
    );
  },
  render: formatChangeLines,
});
