/**
 * Default locations shared by the CNI plugin, the agent and the CLI (`tartan ipam ls`), declared
 * once so that they cannot disagree. README.md ("ipam.dataDir", "dataDir") and docs/agent.md
 * (`ipamDataDir`) document the same values.
 */

/** The node-local IPAM store (`<dir>/tartan-ipam.db`) when ipam.dataDir is not set. */
export const DEFAULT_IPAM_DIR = "/var/lib/tartan/ipam";

/** Where attachment records live when IPAM is delegated to another plugin (top-level dataDir). */
export const DEFAULT_STATE_DIR = "/var/lib/tartan/state";
