/** Codes of the CLI's own checks (usage, objects, choosing a datastore). `cli-usage` exits 2. */
export const CLI_ERROR_CODES = ["cli-usage", "not-found", "object-invalid", "no-datastore"] as const;
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];
