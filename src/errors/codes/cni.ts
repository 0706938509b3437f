/**
 * Codes of the CNI protocol layer. A CniError carries its spec number (`cniCode`) itself; its
 * TartanError code says only "this is already a CNI answer", so the mapping passes it through.
 * The others are the plugin's input refusals (issue 12): each has its own code so that scripts
 * and tests can tell them apart, and its CNI number in CNI_CODE_OF.
 */
export const CNI_ERROR_CODES = [
  "cni-error",
  /** `bridge` names an existing interface that is not a bridge (7). */
  "cni-not-a-bridge",
  /** CNI_NETNS is the namespace the plugin runs in: a pod is never wired into the host's (4). */
  "cni-netns-is-host",
  /** Delegated plugins called each other deeper than the limit: a loop (7). */
  "cni-delegation-too-deep",
  /** The network configuration on stdin is larger than the limit (6). */
  "cni-stdin-too-large",
] as const;
export type CniErrorCode = (typeof CNI_ERROR_CODES)[number];
