/**
 * Codes of address management: configuration, allocation, block claims, and the node-local
 * IpamStore (its SQLite adapter in datastore/local/ throws the ipam-store-* codes).
 */
export const IPAM_ERROR_CODES = [
  "ipam-config-invalid",
  "ipam-ip-not-in-range",
  "ipam-ip-request-invalid",
  "ipam-already-allocated",
  "ipam-ip-in-use",
  "ipam-exhausted",
  "ipam-blocks-full",
  "ipam-pool-invalid",
  "ipam-pool-exhausted",
  "ipam-store-busy",
  "ipam-store-unwritable",
  "ipam-store-corrupt",
  "ipam-store-too-new",
  "ipam-store-io",
  /** A reader (tartan ipam ls) found no store at the directory: readers never create one. */
  "ipam-store-missing",
  /** `tartan ipam release` of an address in use (a live container or a Pod holds it), without --force. */
  "ipam-release-refused",
  /** `tartan ipam release` of an address no node's store reserves. */
  "ipam-not-reserved",
] as const;
export type IpamErrorCode = (typeof IPAM_ERROR_CODES)[number];
