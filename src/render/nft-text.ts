import { shortHash } from "../calc/policy-names.ts";

// The last guard between datastore strings and `nft -f`: the agent validates every object on
// ingestion (kind-mirror.ts) and calc makes names from validated parts, so for anything tartan
// computes these functions return their input unchanged. They exist so that a string that got
// past both (a bug, an object from a path nobody thought of) can never end a statement, open a
// quote or start a new command in the one transaction every policy change of the node shares.

/** What nft reads as one bare identifier (chain, set, map and counter names). */
const IDENT = /^[A-Za-z][A-Za-z0-9_./-]{0,249}$/;
/** Policy object names keep their tag, so that the kernel read-back still knows them as policy's. */
const TAG = /^(?:drop\/)?(?:ing|egr)\//;

/**
 * A name as nft text: unchanged when it is one identifier, else its tag (`ing/`, `drop/egr/`…)
 * and a hash of the whole name, which no Kubernetes name can produce (`_` is not allowed in them).
 * The same input always gives the same name, so state read back from the kernel still compares.
 */
export function nftName(name: string): string {
  if (IDENT.test(name)) return name;
  const tag = TAG.exec(name)?.[0] ?? "x";
  return `${tag}_r/${shortHash(name, 16)}`;
}

/**
 * Text for inside nft double quotes (comments, log prefixes), at most `max` characters: anything
 * but printable ASCII, and the quote and backslash, become '?'. One line, one quoted string.
 */
export function nftQuoted(text: string, max: number): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, "?").slice(0, max);
}
