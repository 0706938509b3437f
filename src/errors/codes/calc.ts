/** Codes of the pure desired-state calculations (node routing). */
export const CALC_ERROR_CODES = [
  "invalid-local-node",
  "local-node-missing",
  /** explain: an end is neither a known pod nor an IP address. */
  "explain-unknown-endpoint",
] as const;
export type CalcErrorCode = (typeof CALC_ERROR_CODES)[number];
