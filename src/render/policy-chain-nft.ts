import type { BaseHook, PolicyChain } from "../calc/policy-ir.ts";
import { shortHash } from "../calc/policy-names.ts";
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

/** The chain rendered (once per chain object). */
export function renderChain(c: PolicyChain): RenderedChain {
  let r = rendered.get(c);
  if (!r) {
    const hook = c.base ? renderHook(c.base) : undefined;
    const rules = c.rules.map(renderRule);
    // "fp=" + 12 hex + " " comes first.
    const room = COMMENT_MAX - 16;
    const note = c.note ?? "";
    const short = note.length > room ? `${note.slice(0, room - 3)}...` : note;
    const fingerprint = shortHash(JSON.stringify([hook ?? "", rules, short]));
    r = { ...(hook ? { hook } : {}), rules, note: short, fingerprint };
    rendered.set(c, r);
  }
  return r;
}
