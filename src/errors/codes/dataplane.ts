/** Codes of the kernel ports and their drivers (Dataplane, NftTable, sysctls). */
export const DATAPLANE_ERROR_CODES = [
  "kernel-op-failed",
  "kernel-read-failed",
  "invalid-kernel-op",
  "netns-missing",
  "sysctl-failed",
  "invalid-sysctl-key",
  "nft-apply-failed",
  "nft-list-failed",
  "invalid-nft-table",
] as const;
export type DataplaneErrorCode = (typeof DATAPLANE_ERROR_CODES)[number];
