import type { FieldError } from "./field-errors.ts";

/**
 * A Kubernetes object that failed validation. The message lists every problem as
 * `field: reason`, prefixed with the object's identity when it is known.
 */
export class InvalidObjectError extends Error {
  constructor(
    /** "NetworkPolicy prod/deny-all", or "" when the kind or name could not be read. */
    readonly object: string,
    readonly errors: readonly FieldError[],
  ) {
    const list = errors.map((e) => `${e.field}: ${e.reason}`).join("; ");
    super(object ? `${object}: ${list}` : list);
    this.name = "InvalidObjectError";
  }
}
