/** Codes of the CLI's own checks (usage, root, objects, choosing a datastore). `cli-usage` exits 2. */
export const CLI_ERROR_CODES = [
  "cli-usage",
  "not-found",
  "object-invalid",
  "no-datastore",
  /** A command that enters namespaces or reads root-only state, run by another user. */
  "needs-root",
] as const;
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];
