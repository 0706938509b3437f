import { defineCommand } from "../command.ts";
import { type VersionInfo, versionInfo } from "../version-info.ts";

export const versionCommand = defineCommand<VersionInfo>({
  path: ["version"],
  summary: "print the version and the CNI versions spoken",
  examples: ["tartan version -o json"],
  run: async () => versionInfo(),
  render: (v) => `tartan ${v.version} (${v.runtime}); CNI versions ${v.cniVersions.join(", ")}\n`,
});
