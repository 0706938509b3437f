/**
 * Thrown inside the fake kernel when an op is refused; `words` mimic what the real kernel or ip
 * prints, so callers and the contract tests can match the same text on both drivers.
 */
export class KernelRefusal extends Error {
  constructor(readonly words: string) {
    super(words);
    this.name = "KernelRefusal";
  }
}
