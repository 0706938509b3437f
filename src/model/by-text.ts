/**
 * Compares two strings in the order of String.prototype.localeCompare, through one shared
 * collator: localeCompare sets one up on every call, which sorts of thousands of items (1000
 * policies, 1000 nodes) pay on every comparison.
 */
export const byText: (a: string, b: string) => number = new Intl.Collator().compare;
