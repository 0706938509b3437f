import { type FakeElement, parseElement, verdictJson } from "./fake-nft-element.ts";

/**
 * The in-memory model of nftables behind FakeNft: tables with chains (hooks, rules), sets and
 * verdict maps (typed elements, interval overlap checks), and named counters, with the kernel's
 * refusals that callers rely on (ENOENT for what is missing, EEXIST for a re-declaration of
 * another type or `create` of what exists, EBUSY for deleting what a rule or map still refers to,
 * EOPNOTSUPP for a base chain's hook changed in place). Proven against the real nftables by
 * test/contract/nft-contract.ts. Rules are kept as text with the names they refer to.
 */
export interface FakeRule {
  text: string;
  comment?: string;
  /** Named sets/maps (@name), named counters (`counter name "x"`), chains (jump/goto) it refers to. */
  sets: string[];
  counters: string[];
  chains: string[];
}
export interface FakeChain {
  hook?: { type: string; hook: string; prio: number; policy: string };
  rules: FakeRule[];
}
export interface FakeSet {
  kind: "set" | "map";
  /** Component types (one unless concatenated). */
  type: string[];
  map?: string;
  interval: boolean;
  elements: Map<string, FakeElement>;
}
export interface FakeTable {
  family: string;
  name: string;
  chains: Map<string, FakeChain>;
  sets: Map<string, FakeSet>;
  counters: Map<string, { packets: number; bytes: number }>;
}
/** Tables of one namespace by "family name". */
export type FakeRuleset = Map<string, FakeTable>;

/** The kernel's (or nft's) refusal of a statement; element parsing refuses with a plain Error. */
export class NftRefusal extends Error {}

const refuse = (why: string): never => {
  throw new NftRefusal(why);
};
const ENOENT = "No such file or directory";
const EEXIST = "File exists";
const EBUSY = "Device or resource busy";

const PRIORITIES: Record<string, number> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};

const NAME = String.raw`[A-Za-z][\w./-]*`;

function table(rs: FakeRuleset, family: string, name: string): FakeTable {
  return rs.get(`${family} ${name}`) ?? refuse(ENOENT);
}

/** `type filter hook forward priority 0; policy accept;` → the hook, or undefined for a regular chain. */
function parseHook(spec: string): FakeChain["hook"] {
  const m = /type (\w+) hook (\w+)(?: device \S+)? priority ([\w+-]+)\s*;(?:\s*policy (\w+)\s*;)?/.exec(spec);
  if (!m) return undefined;
  const p = m[3]!;
  const prio = /^-?\d+$/.test(p) ? Number(p) : (PRIORITIES[p] ?? refuse(`unknown priority ${p}`));
  return { type: m[1]!, hook: m[2]!, prio, policy: m[4] ?? "accept" };
}

function parseRule(t: FakeTable, text: string): FakeRule {
  const comment = /\bcomment "([^"]*)"\s*$/.exec(text)?.[1];
  if (comment !== undefined && comment.length > 128) refuse("comment too long (128 characters at most)");
  const rule: FakeRule = {
    text: text.replace(/\s*\bcomment "[^"]*"\s*$/, ""),
    ...(comment !== undefined ? { comment } : {}),
    sets: [...text.matchAll(new RegExp(`@(${NAME})`, "g"))].map((m) => m[1]!),
    counters: [...text.matchAll(/\bcounter name "([^"]+)"/g)].map((m) => m[1]!),
    chains: [...text.matchAll(new RegExp(`\\b(?:jump|goto) (${NAME})`, "g"))].map((m) => m[1]!),
  };
  for (const s of rule.sets) if (!t.sets.has(s)) refuse(ENOENT);
  for (const c of rule.counters) if (!t.counters.has(c)) refuse(ENOENT);
  for (const c of rule.chains) if (!t.chains.has(c)) refuse(ENOENT);
  return rule;
}

/** Elements of `{ a, b : jump c }` split at top-level commas. */
function elementTexts(body: string): string[] {
  return body
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
}

function addElements(t: FakeTable, name: string, body: string, create: boolean): void {
  const s = t.sets.get(name) ?? refuse(ENOENT);
  for (const text of elementTexts(body)) {
    const el = parseElement(text, s.type, s.interval, s.kind === "map");
    if (el.verdict) {
      const target = /^(?:jump|goto) (\S+)$/.exec(el.verdict)?.[1];
      if (target !== undefined && !t.chains.has(target)) refuse(ENOENT);
    }
    if (s.elements.has(el.key)) {
      if (create) refuse(EEXIST);
      continue;
    }
    if (el.range) {
      for (const o of s.elements.values()) {
        if (o.range && el.range[0] <= o.range[1] && o.range[0] <= el.range[1])
          refuse("interval overlaps with an existing one");
      }
    }
    s.elements.set(el.key, el);
  }
}

function deleteElements(t: FakeTable, name: string, body: string): void {
  const s = t.sets.get(name) ?? refuse(ENOENT);
  for (const text of elementTexts(body)) {
    // A map element is deleted by its key alone.
    const key = parseElement(text.split(" : ")[0]!, s.type, s.interval, false).key;
    if (!s.elements.delete(key)) refuse(ENOENT);
  }
}

const referencedBy = (t: FakeTable, pick: (r: FakeRule) => string[], name: string): boolean =>
  [...t.chains.values()].some((c) => c.rules.some((r) => pick(r).includes(name)));

function deleteChain(t: FakeTable, name: string): void {
  if (!t.chains.has(name)) refuse(ENOENT);
  const inMap = [...t.sets.values()].some((s) =>
    [...s.elements.values()].some((e) => e.verdict !== undefined && e.verdict.split(" ")[1] === name),
  );
  if (inMap || referencedBy(t, (r) => r.chains, name)) refuse(EBUSY);
  t.chains.delete(name);
}

function addSet(t: FakeTable, kind: "set" | "map", name: string, whole: string, create: boolean): void {
  // `{ type ...; elements = { a, b } }`: the declaration, then its elements added as by `add element`.
  const inline = /\belements\s*=\s*\{(.*)\}\s*$/.exec(whole);
  const body = inline ? whole.slice(0, inline.index) : whole;
  declareSet(t, kind, name, body, create);
  if (inline) addElements(t, name, inline[1]!, false);
}

function declareSet(t: FakeTable, kind: "set" | "map", name: string, body: string, create: boolean): void {
  const type = /\btype ([^;]+);/.exec(body)?.[1]?.trim() ?? refuse(`set ${name} needs a type`);
  const [keyType, mapType] = type.split(" : ").map((x) => x.trim());
  const decl: FakeSet = {
    kind,
    type: keyType!.split(" . ").map((x) => x.trim()),
    ...(mapType ? { map: mapType } : {}),
    interval: /\bflags [^;]*\binterval\b/.test(body),
    elements: new Map(),
  };
  if (kind === "map" && !mapType) refuse(`map ${name} needs a "key : value" type`);
  const old = t.sets.get(name);
  if (old) {
    const same =
      old.kind === decl.kind &&
      old.type.join(".") === decl.type.join(".") &&
      old.map === decl.map &&
      old.interval === decl.interval;
    if (create || !same) refuse(EEXIST);
    return;
  }
  t.sets.set(name, decl);
}

function addChain(t: FakeTable, name: string, body: string | undefined, create: boolean): FakeChain {
  const hook = body ? parseHook(body) : undefined;
  const old = t.chains.get(name);
  if (old) {
    if (create) refuse(EEXIST);
    if (hook && JSON.stringify(hook) !== JSON.stringify(old.hook)) refuse("Operation not supported");
    return old;
  }
  const c: FakeChain = { ...(hook ? { hook } : {}), rules: [] };
  t.chains.set(name, c);
  return c;
}

/**
 * Runs one statement of a script (`add|create|delete|flush` of table, chain, set, map (a flush
 * empties it), element, counter; `add rule`). Throws NftRefusal with the kernel's words when the kernel would refuse it.
 */
export function runStatement(rs: FakeRuleset, line: string): void {
  let m = /^(add|create|delete|destroy|flush) table (\w+) ([\w.-]+)$/.exec(line);
  if (m) {
    const key = `${m[2]} ${m[3]}`;
    const t = rs.get(key);
    if (m[1] === "add" || m[1] === "create") {
      if (t && m[1] === "create") refuse(EEXIST);
      if (!t)
        rs.set(key, { family: m[2]!, name: m[3]!, chains: new Map(), sets: new Map(), counters: new Map() });
    } else if (m[1] === "flush") {
      const f = t ?? refuse(ENOENT);
      for (const c of f.chains.values()) c.rules = [];
      for (const s of f.sets.values()) s.elements.clear();
    } else {
      if (!t && m[1] === "delete") refuse(ENOENT);
      rs.delete(key);
    }
    return;
  }
  m = new RegExp(`^(add|create) chain (\\w+) ([\\w.-]+) (${NAME})(?:\\s*\\{(.*)\\})?$`).exec(line);
  if (m) {
    addChain(table(rs, m[2]!, m[3]!), m[4]!, m[5], m[1] === "create");
    return;
  }
  m = new RegExp(`^(delete|flush) chain (\\w+) ([\\w.-]+) (${NAME})$`).exec(line);
  if (m) {
    const t = table(rs, m[2]!, m[3]!);
    if (m[1] === "delete") deleteChain(t, m[4]!);
    else (t.chains.get(m[4]!) ?? refuse(ENOENT)).rules = [];
    return;
  }
  m = new RegExp(`^(add|create) (set|map) (\\w+) ([\\w.-]+) (${NAME})\\s*\\{(.*)\\}$`).exec(line);
  if (m) {
    addSet(table(rs, m[3]!, m[4]!), m[2] as "set" | "map", m[5]!, m[6]!, m[1] === "create");
    return;
  }
  m = new RegExp(`^flush (set|map) (\\w+) ([\\w.-]+) (${NAME})$`).exec(line);
  if (m) {
    (table(rs, m[2]!, m[3]!).sets.get(m[4]!) ?? refuse(ENOENT)).elements.clear();
    return;
  }
  m = new RegExp(`^delete (set|map|counter) (\\w+) ([\\w.-]+) (${NAME})$`).exec(line);
  if (m) {
    const t = table(rs, m[2]!, m[3]!);
    const name = m[4]!;
    if (m[1] === "counter") {
      if (!t.counters.has(name)) refuse(ENOENT);
      if (referencedBy(t, (r) => r.counters, name)) refuse(EBUSY);
      t.counters.delete(name);
    } else {
      // Like the kernel, `delete map` deletes a set of that name too (the kind is not checked).
      if (!t.sets.has(name)) refuse(ENOENT);
      if (referencedBy(t, (r) => r.sets, name)) refuse(EBUSY);
      t.sets.delete(name);
    }
    return;
  }
  m = new RegExp(`^(add|create|delete) element (\\w+) ([\\w.-]+) (${NAME})\\s*\\{(.*)\\}$`).exec(line);
  if (m) {
    const t = table(rs, m[2]!, m[3]!);
    if (m[1] === "delete") deleteElements(t, m[4]!, m[5]!);
    else addElements(t, m[4]!, m[5]!, m[1] === "create");
    return;
  }
  m = new RegExp(`^(add|create) counter (\\w+) ([\\w.-]+) (${NAME})$`).exec(line);
  if (m) {
    const t = table(rs, m[2]!, m[3]!);
    if (t.counters.has(m[4]!)) {
      if (m[1] === "create") refuse(EEXIST);
      return;
    }
    t.counters.set(m[4]!, { packets: 0, bytes: 0 });
    return;
  }
  m = new RegExp(`^add rule (\\w+) ([\\w.-]+) (${NAME}) (.+)$`).exec(line);
  if (m) {
    const t = table(rs, m[1]!, m[2]!);
    const c = t.chains.get(m[3]!) ?? refuse(ENOENT);
    c.rules.push(parseRule(t, m[4]!));
    return;
  }
  refuse(`the fake nft does not model this statement: ${line}`);
}

/** A rule inside a `table F N { chain C { ... } }` block, added to that chain. */
export function runBlockRule(rs: FakeRuleset, tableKey: string, chain: string, line: string): void {
  const t = rs.get(tableKey) ?? refuse(ENOENT);
  const c = t.chains.get(chain) ?? refuse(ENOENT);
  const hook = parseHook(line);
  if (hook) {
    if (c.rules.length === 0 && !c.hook) c.hook = hook;
    else if (JSON.stringify(hook) !== JSON.stringify(c.hook)) refuse("Operation not supported");
    return;
  }
  c.rules.push(parseRule(t, line));
}

/** A deep copy (a script runs on a copy that replaces the original only when all of it applied). */
export function cloneRuleset(rs: FakeRuleset): FakeRuleset {
  return structuredClone(rs);
}

/** The table as `nft -j list table F N` prints it (objects in nft's order; rules carry references, not full expressions). */
export function rulesetJson(t: FakeTable): unknown {
  const base = { family: t.family, table: t.name };
  return {
    nftables: [
      { metainfo: { json_schema_version: 1 } },
      { table: { family: t.family, name: t.name } },
      ...[...t.counters].map(([name, c]) => ({ counter: { ...base, name, ...c } })),
      ...[...t.sets].map(([name, s]) => {
        const elem = [...s.elements.values()].map((e) =>
          s.kind === "map" ? [e.json, verdictJson(e.verdict!)] : e.json,
        );
        return {
          [s.kind]: {
            ...base,
            name,
            type: s.type.length === 1 ? s.type[0] : s.type,
            ...(s.map ? { map: s.map } : {}),
            ...(s.interval ? { flags: ["interval"] } : {}),
            ...(elem.length ? { elem } : {}),
          },
        };
      }),
      ...[...t.chains].map(([name, c]) => ({ chain: { ...base, name, ...(c.hook ?? {}) } })),
      ...[...t.chains].flatMap(([name, c]) =>
        c.rules.map((r) => ({
          rule: {
            ...base,
            chain: name,
            ...(r.comment !== undefined ? { comment: r.comment } : {}),
            expr: [
              ...r.sets.map((s) => ({ match: { right: `@${s}` } })),
              ...r.counters.map((n) => ({ counter: n })),
              ...r.chains.map((n) => ({ jump: { target: n } })),
            ],
          },
        })),
      ),
    ],
  };
}
