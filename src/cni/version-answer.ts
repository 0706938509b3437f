import { SUPPORTED_CNI_VERSIONS } from "../model/cni-version.ts";

/** The newest spec version tartan speaks: the answer's version when stdin names none. */
export const LATEST_CNI_VERSION = "1.1.0";

/** The cniVersion stdin asks for (any string, as libcni's skel answers it), else the latest. */
export function requestedCniVersion(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown } | null)?.cniVersion;
    return typeof v === "string" && v !== "" ? v : LATEST_CNI_VERSION;
  } catch {
    return LATEST_CNI_VERSION;
  }
}

/**
 * VERSION's stdout. It depends on nothing but stdin, so the plugin's entry answers it before
 * loading anything else (src/cni-main.ts), and runCni / runIpamPlugin give the same text.
 */
export function versionAnswer(stdin: string): string {
  return JSON.stringify({
    cniVersion: requestedCniVersion(stdin),
    supportedVersions: [...SUPPORTED_CNI_VERSIONS],
  });
}
