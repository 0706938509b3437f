import type { ErrorCode } from "./error-code.ts";

/**
 * The one error type of tartan: a stable code from the typed union ErrorCode (for scripts, docs
 * and the CNI mapping; no free string compiles), a message that says what was wrong, and a hint
 * that says what to do about it.
 */
export class TartanError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TartanError";
  }

  /** Message and hint on one line, the form CLI users and CNI runtimes see. */
  get full(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}
