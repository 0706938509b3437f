import { elementDeltaOf } from "../calc/element-delta.ts";
import type { PolicyChain, PolicyIR } from "../calc/policy-ir.ts";
import type { PolicySet } from "../calc/policy-set.ts";
import type { NftElementChange } from "../dataplane/nft-table.ts";
import { TARTAN_TABLE } from "./masquerade-nft.ts";
import { nftName } from "./nft-text.ts";
import { renderChain } from "./policy-chain-nft.ts";
import { renderSetDecl, setElementTexts } from "./policy-set-nft.ts";

/** A chain as last written or as read from the kernel: enough to tell whether it must be rewritten. */
export interface PolicyChainState {
  hook?: string;
  /** The "fp=" of the last rule's comment; undefined when the chain has no such rule. */
  fingerprint: string | undefined;
  ruleCount: number;
}

/** A set or map as last written or as read from the kernel, in nft's text. */
export interface PolicySetState {
  kind: "set" | "map";
  /** The declaration body, e.g. "type ipv4_addr; flags interval;" (compared with the kernel's). */
  decl: string;
  /** Canonical element texts, sorted as the IR sorts them. */
  elements: string[];
}

/** The policy objects of `table inet tartan`, as the IR wants them or as the kernel has them. */
export interface PolicyState {
  sets: Map<string, PolicySetState>;
  chains: Map<string, PolicyChainState>;
  counters: Set<string>;
}

export const EMPTY_POLICY_STATE: PolicyState = { sets: new Map(), chains: new Map(), counters: new Set() };

/** What an applied IR leaves in the kernel (the state the next delta starts from). */
export function policyStateOf(ir: PolicyIR): PolicyState {
  return {
    sets: new Map([...ir.sets].map(([n, s]) => [nftName(n), setState(s)])),
    chains: new Map(
      [...ir.chains].map(([n, c]) => {
        const r = renderChain(c);
        return [
          nftName(n),
          { ...(r.hook ? { hook: r.hook } : {}), fingerprint: r.fingerprint, ruleCount: r.rules.length },
        ];
      }),
    ),
    counters: new Set([...ir.counters].map(nftName)),
  };
}

export interface PolicyDelta {
  /** One nft -f transaction; "" when the kernel already matches (then nft is not called at all). */
  script: string;
  /** Kernel objects written: sets/chains/counters added or removed, elements added or removed, chains rewritten. */
  changes: number;
  /**
   * The same transaction as element changes, when that is all it is and every set touched is a
   * plain address set (no interval flag, no concatenation, no map) and the changes are few
   * (ELEMENT_BATCH_MAX): the agent then sends them over nf_tables netlink (decision 0020).
   * Deletes first, as in the script.
   */
  elements?: NftElementChange[];
}

/**
 * Most elements offered as an element batch: a label change or a new pod moves a handful; a
 * bigger change (a namespace relabelled) goes through nft -f, which sizes its own socket buffer.
 * 2000 IPv6 elements are ~70 kB of messages, well inside a netlink socket's default send buffer.
 */
export const ELEMENT_BATCH_MAX = 2000;

const T = `inet ${TARTAN_TABLE}`;
/** Elements per `add element` line: keeps lines short for big sets (one transaction either way). */
const CHUNK = 500;

const keyOfElement = (kind: "set" | "map", e: string): string => (kind === "map" ? e.split(" : ")[0]! : e);

function elementLines(verb: "add" | "delete", set: string, elements: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < elements.length; i += CHUNK) {
    out.push(`${verb} element ${T} ${set} { ${elements.slice(i, i + CHUNK).join(", ")} }`);
  }
  return out;
}

/**
 * `add set|map <name> { <decl> elements = { ... } }`: a new set with its elements in one
 * command, which nft evaluates without reading any set's elements from the kernel (decision 0027).
 */
function declareWithElements(
  kind: "set" | "map",
  name: string,
  decl: string,
  elements: readonly string[],
): string {
  const body = elements.length === 0 ? "" : ` elements = { ${elements.join(", ")} }`;
  return `add ${kind} ${T} ${name} { ${decl}${body} }`;
}

const setState = (s: PolicySet): PolicySetState => ({
  kind: s.kind,
  decl: renderSetDecl(s),
  elements: setElementTexts(s),
});

function ruleLines(c: PolicyChain, name: string): string[] {
  const r = renderChain(c);
  return r.rules.map((text, i) =>
    i === r.rules.length - 1
      ? `add rule ${T} ${name} ${text} comment "fp=${r.fingerprint}${r.note ? ` ${r.note}` : ""}"`
      : `add rule ${T} ${name} ${text}`,
  );
}

/**
 * The nft script taking the kernel from `old` to `next`, carrying only what differs: set and map
 * elements added/removed, chains flushed and rewritten only when their fingerprint changed, new
 * objects added, objects no longer wanted removed (after everything referring to them is gone,
 * all within one transaction). A set or base chain whose declaration changed (only possible
 * when something outside tartan recreated it) is rebuilt. Objects not named like policy
 * objects (the ipMasq chains) are never in either state, so never touched. Every name goes
 * through nftName (render/nft-text.ts), in the states as here, so nothing but an identifier is
 * ever written where nft expects one.
 */
export function renderPolicyDelta(old: PolicyState, next: PolicyIR): PolicyDelta {
  const head: string[] = [];
  const adds: string[] = [];
  const elDel: string[] = [];
  const elAdd: string[] = [];
  /** New maps with their elements: after the chains their verdicts jump to. */
  const mapAdds: string[] = [];
  const rules: string[] = [];
  const removes: string[] = [];
  let changes = 0;
  const elDelOps: NftElementChange[] = [];
  const elAddOps: NftElementChange[] = [];
  /** False once an element change touches a set the element batch does not speak. */
  let plainSets = true;

  const oldSets = new Map(old.sets);
  const oldChains = new Map(old.chains);
  const nextChains = [...next.chains.values()].map((c) => ({ c, name: nftName(c.name), r: renderChain(c) }));
  const nextChainNames = new Set(nextChains.map((x) => x.name));
  const nextSets = [...next.sets.values()].map((s) => ({ s, name: nftName(s.name) }));
  const nextSetNames = new Set(nextSets.map((x) => x.name));
  const nextCounters = new Set([...next.counters].map(nftName));
  const redeclSets = nextSets.filter(({ s, name }) => {
    const o = oldSets.get(name);
    return o !== undefined && o.decl !== renderSetDecl(s);
  });
  const redeclChains = nextChains.filter(({ name, r }) => {
    const o = oldChains.get(name);
    return o !== undefined && (o.hook ?? "") !== (r.hook ?? "");
  });
  const flushed = new Set<string>();
  if (redeclSets.length > 0) {
    // Rules may refer to the set: empty every chain first, rewrite them all below.
    for (const name of oldChains.keys()) {
      head.push(`flush chain ${T} ${name}`);
      flushed.add(name);
    }
  }
  for (const { name } of redeclChains) {
    if (!flushed.has(name)) head.push(`flush chain ${T} ${name}`);
    head.push(`delete chain ${T} ${name}`);
    oldChains.delete(name);
    changes++;
  }
  for (const { name } of redeclSets) {
    head.push(`delete ${oldSets.get(name)!.kind} ${T} ${name}`);
    oldSets.delete(name);
    changes++;
  }

  for (const { s, name } of nextSets) {
    const o = oldSets.get(name);
    if (!o) {
      // A new set or map carries its elements in its declaration: `add element` lines make nft
      // fill its cache with the elements of every set in the table first (~10–20 ms at 10k pods
      // / 1k policies, the most of a new policy's write), a declaration does not (decision 0027).
      // Maps after the chains their jumps name (adds below), sets before the rules using them.
      const elements = setElementTexts(s);
      (s.kind === "map" ? mapAdds : adds).push(declareWithElements(s.kind, name, renderSetDecl(s), elements));
      changes += 1 + elements.length;
      continue;
    }
    const elements = setElementTexts(s);
    // The incremental compile keeps an unchanged set's element array: nothing to diff.
    if (o && o.elements === elements) continue;
    // ...and says what changed in a pod-IP set when it knows, relative to the array it updated.
    const known = s.type === "addr" ? elementDeltaOf(elements) : undefined;
    let gone: readonly string[];
    let fresh: readonly string[];
    if (known && known.base === o.elements) {
      gone = known.removed;
      fresh = known.added;
    } else {
      const have = new Set(o.elements);
      const want = new Set(elements);
      gone = o.elements.filter((e) => !want.has(e));
      fresh = elements.filter((e) => !have.has(e));
    }
    elDel.push(
      ...elementLines(
        "delete",
        name,
        gone.map((e) => keyOfElement(s.kind, e)),
      ),
    );
    elAdd.push(...elementLines("add", name, fresh));
    changes += gone.length + fresh.length;
    if (s.type !== "addr" || s.interval) plainSets = plainSets && gone.length + fresh.length === 0;
    else {
      if (gone.length > 0) elDelOps.push({ verb: "delete", set: name, family: s.family, elements: gone });
      if (fresh.length > 0) elAddOps.push({ verb: "add", set: name, family: s.family, elements: fresh });
    }
  }
  for (const c of nextCounters) {
    if (!old.counters.has(c)) {
      adds.push(`add counter ${T} ${c}`);
      changes++;
    }
  }
  for (const { c, name, r } of nextChains) {
    const o = oldChains.get(name);
    if (!o) {
      adds.push(r.hook ? `add chain ${T} ${name} { ${r.hook} }` : `add chain ${T} ${name}`);
      rules.push(...ruleLines(c, name));
      changes++;
    } else if (flushed.has(name) || o.fingerprint !== r.fingerprint || o.ruleCount !== r.rules.length) {
      if (!flushed.has(name)) rules.push(`flush chain ${T} ${name}`);
      rules.push(...ruleLines(c, name));
      changes++;
    }
  }
  // Removal order: empty the chains (their rules use sets and counters), then drop the sets and
  // maps (a map's jump elements hold their chains: the kernel refuses, EBUSY, to delete a chain
  // a verdict map still points at), then the chains, then the counters.
  const goneChains = [...oldChains.keys()].filter((name) => !nextChainNames.has(name));
  for (const name of goneChains) if (!flushed.has(name)) removes.push(`flush chain ${T} ${name}`);
  for (const [name, s] of oldSets) {
    if (nextSetNames.has(name)) continue;
    removes.push(`delete ${s.kind} ${T} ${name}`);
    changes++;
  }
  for (const name of goneChains) {
    removes.push(`delete chain ${T} ${name}`);
    changes++;
  }
  for (const name of old.counters) {
    if (nextCounters.has(name)) continue;
    removes.push(`delete counter ${T} ${name}`);
    changes++;
  }
  adds.push(...mapAdds);
  const body = [...head, ...adds, ...elDel, ...elAdd, ...rules, ...removes];
  if (body.length === 0) return { script: "", changes: 0 };
  const script = `add table ${T}\n${body.join("\n")}\n`;
  const onlyElements = head.length + adds.length + rules.length + removes.length === 0 && plainSets;
  if (onlyElements && changes <= ELEMENT_BATCH_MAX)
    return { script, changes, elements: [...elDelOps, ...elAddOps] };
  return { script, changes };
}

/** The whole policy state as one script (what a delta from an empty table is). */
export function renderPolicyFull(ir: PolicyIR): string {
  return renderPolicyDelta(EMPTY_POLICY_STATE, ir).script;
}
