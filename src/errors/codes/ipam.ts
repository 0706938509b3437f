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
] as const;
export type IpamErrorCode = (typeof IPAM_ERROR_CODES)[number];
