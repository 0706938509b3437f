/**
 * Codes of the CNI protocol layer. A CniError carries its spec number (`cniCode`) itself; its
 * TartanError code says only "this is already a CNI answer", so the mapping passes it through.
 */
export const CNI_ERROR_CODES = ["cni-error"] as const;
export type CniErrorCode = (typeof CNI_ERROR_CODES)[number];
