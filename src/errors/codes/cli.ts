/** Codes of the CLI's own checks (usage, root, objects, choosing a datastore). `cli-usage` exits 2. */
export const CLI_ERROR_CODES = [
  "cli-usage",
  "not-found",
  "object-invalid",
  "no-datastore",
  /** A command that enters namespaces or reads root-only state, run by another user. */
  "needs-root",
  /** `tartan install`: a plugin executable to install is missing or unreadable. */
  "install-source-missing",
  /** `tartan install`: writing or renaming into the CNI bin directory failed. */
  "install-failed",
  /** `tartan install`: the installed file's hash differs from the source's (a truncated copy). */
  "install-verify-failed",
] as const;
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];
