/**
 * Thrown by model parsers when a value is malformed. It names the field and the reason so that
 * the layer that catches it (CNI, CLI, agent) can turn it into its own error with a hint.
 */
export class InvalidValueError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = "InvalidValueError";
  }
}
