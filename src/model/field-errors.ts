/** One problem of an object: the field path (`spec.ingress[0].ports[1].endPort`) and why. */
export interface FieldError {
  field: string;
  reason: string;
}

/**
 * Collects every problem of one object while it is validated, so a user fixes a manifest in one
 * go instead of one error per attempt (the API server reports them all at once, too).
 */
export class FieldErrors {
  readonly list: FieldError[] = [];

  add(field: string, reason: string): void {
    this.list.push({ field, reason });
  }

  /**
   * Adds `invalid value "…": reason` when `reason` is defined (the k8sSyntax checks return
   * undefined for "fine"), the shape of the API server's "Invalid value" errors.
   */
  check(field: string, value: unknown, reason: string | undefined): void {
    if (reason !== undefined) this.add(field, `invalid value ${JSON.stringify(value)}: ${reason}`);
  }
}
