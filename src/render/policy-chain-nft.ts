import type { BaseHook, PolicyChain } from "../calc/policy-ir.ts";
import { shortHash } from "../calc/policy-names.ts";
import { nftQuoted } from "./nft-text.ts";
import { renderRule } from "./policy-rule-nft.ts";

/** nft comments hold at most 128 characters. */
const COMMENT_MAX = 128;

/** A chain of the IR as nft text: its hook, its rules, and the fingerprint of all that. */
export interface RenderedChain {
  /** Base chains only, e.g. "type filter hook forward priority 0; policy accept;" (nft -j's numeric priority). */
  hook?: string;
  rules: string[];
  /** The note as it fits into the last rule's comment after the fingerprint. */
  note: string;
  /** Hash of hook, rules and note; written into the last rule's comment as "fp=<hex>". */
  fingerprint: string;
}

export const renderHook = (b: BaseHook): string =>
  `type ${b.type} hook ${b.hook} priority ${b.priority}; policy ${b.policy};`;

const rendered = new WeakMap<PolicyChain, RenderedChain>();

/**
 * Fingerprints by chain text: the incremental compile makes new chain objects on every compile,
 * mostly with the same content; the hash (sha256 of the JSON, kept as it was so that chains
 * written by earlier versions compare equal) is then computed once per content. Bounded: cleared
 * when it outgrows what any node has (chains are per local pod).
 */
const fingerprints = new Map<string, string>();
const FINGERPRINT_CACHE_MAX = 4096;

function fingerprintOf(hook: string, rules: string[], note: string): string {
  const key = `${hook}\n${note}\n${rules.join("\n")}`;
  let fp = fingerprints.get(key);
  if (fp === undefined) {
    if (fingerprints.size >= FINGERPRINT_CACHE_MAX) fingerprints.clear();
    fp = shortHash(JSON.stringify([hook, rules, note]));
    fingerprints.set(key, fp);
  }
  return fp;
}

/** The chain rendered (once per chain object). */
export function renderChain(c: PolicyChain): RenderedChain {
  let r = rendered.get(c);
  if (!r) {
    const hook = c.base ? renderHook(c.base) : undefined;
    const rules = c.rules.map(renderRule);
    // "fp=" + 12 hex + " " comes first.
    const room = COMMENT_MAX - 16;
    const note = nftQuoted(c.note ?? "", Number.POSITIVE_INFINITY);
    const short = note.length > room ? `${note.slice(0, room - 3)}...` : note;
    const fingerprint = fingerprintOf(hook ?? "", rules, short);
    r = { ...(hook ? { hook } : {}), rules, note: short, fingerprint };
    rendered.set(c, r);
  }
  return r;
}
