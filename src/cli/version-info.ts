import pkg from "../../package.json" with { type: "json" };
import { SUPPORTED_CNI_VERSIONS } from "../model/cni-version.ts";

export interface VersionInfo {
  version: string;
  cniVersions: string[];
  runtime: string;
}

/** `tartan version`: the data; the reporter prints it. */
export function versionInfo(): VersionInfo {
  return { version: pkg.version, cniVersions: [...SUPPORTED_CNI_VERSIONS], runtime: `bun ${Bun.version}` };
}
