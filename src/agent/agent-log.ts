import type { LogLevel } from "../exec/json-logger.ts";

/** The agent's structured logger: one JSON line per call (makeLogger), or a recorder in tests. */
export type AgentLog = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** A message and code for logs and metrics labels, whatever was thrown. */
export function errorFields(e: unknown): { error: string; code?: string } {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" ? { error: e.message, code } : { error: e.message };
  }
  return { error: String(e) };
}
