/** Codes of exec/: a spawned program failed (ExecError). */
export const EXEC_ERROR_CODES = ["exec-failed"] as const;
export type ExecErrorCode = (typeof EXEC_ERROR_CODES)[number];
