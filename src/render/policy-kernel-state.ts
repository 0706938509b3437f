import { isPolicyObjectName } from "../calc/policy-names.ts";
import { formatIp, parseIp } from "../model/ip.ts";
import { TARTAN_TABLE } from "./masquerade-nft.ts";
import type { PolicyState } from "./policy-nft.ts";
import { setDecl } from "./policy-set-nft.ts";

type Json = Record<string, unknown>;

const canonAddr = (s: string): string => {
  try {
    return formatIp(parseIp(s));
  } catch {
    return s;
  }
};

/** One element of `nft -j` output in the IR's canonical text ("10.0.0.0/8", "10.0.0.1 . tcp . 80"). */
function elementText(e: unknown, interval: boolean): string {
  if (typeof e === "number") return String(e);
  if (typeof e === "string") {
    if (!interval) return canonAddr(e);
    // A single address in an interval set is printed bare; the IR writes it as a full prefix.
    const a = canonAddr(e);
    return a.includes(":") ? `${a}/128` : /^\d+\.\d+\.\d+\.\d+$/.test(a) ? `${a}/32` : a;
  }
  const o = (e ?? {}) as Json;
  if (o.prefix) {
    const p = o.prefix as { addr: string; len: number };
    return `${canonAddr(p.addr)}/${p.len}`;
  }
  if (Array.isArray(o.range)) return o.range.map((x) => elementText(x, false)).join("-");
  if (Array.isArray(o.concat)) return o.concat.map((x) => elementText(x, false)).join(" . ");
  if (o.elem) return elementText((o.elem as Json).val, interval);
  return JSON.stringify(e);
}

function verdictText(v: unknown): string {
  const o = (v ?? {}) as Json;
  for (const k of ["jump", "goto"]) if (o[k]) return `${k} ${(o[k] as { target: string }).target}`;
  return Object.keys(o)[0] ?? String(v);
}

/**
 * The policy objects of `table inet tartan` from `nft -j list table inet tartan` (undefined: no
 * table): sets and maps with declarations and elements in the IR's canonical text, chains with
 * their hook, rule count and the fingerprint of their last rule's comment, named counters.
 * Objects of other subsystems (ipMasq chains) are left out, so a delta never touches them.
 */
export function parsePolicyState(json: unknown): PolicyState {
  const state: PolicyState = { sets: new Map(), chains: new Map(), counters: new Set() };
  const items = ((json as { nftables?: Json[] } | undefined)?.nftables ?? []) as Json[];
  const mine = (o: Json) => o.family === "inet" && o.table === TARTAN_TABLE;
  for (const item of items) {
    const set = (item.set ?? item.map) as Json | undefined;
    if (set && mine(set) && isPolicyObjectName(String(set.name))) {
      const kind = item.map ? "map" : "set";
      const interval = Array.isArray(set.flags) && set.flags.includes("interval");
      const type = Array.isArray(set.type) ? set.type.join(" . ") : String(set.type);
      const elems = (set.elem ?? []) as unknown[];
      const elements = elems
        .map((e) =>
          kind === "map" && Array.isArray(e)
            ? `${elementText(e[0], interval)} : ${verdictText(e[1])}`
            : elementText(e, interval),
        )
        .sort();
      state.sets.set(String(set.name), {
        kind,
        decl: setDecl(type, { ...(kind === "map" ? { map: String(set.map) } : {}), interval }),
        elements,
      });
    }
    const chain = item.chain as Json | undefined;
    if (chain && mine(chain) && isPolicyObjectName(String(chain.name))) {
      state.chains.set(String(chain.name), {
        ...(chain.hook
          ? { hook: `type ${chain.type} hook ${chain.hook} priority ${chain.prio}; policy ${chain.policy};` }
          : {}),
        fingerprint: undefined,
        ruleCount: 0,
      });
    }
    const rule = item.rule as Json | undefined;
    if (rule && mine(rule)) {
      const c = state.chains.get(String(rule.chain));
      if (c) {
        c.ruleCount++;
        c.fingerprint = /^fp=([0-9a-f]+)/.exec(String(rule.comment ?? ""))?.[1];
      }
    }
    const counter = item.counter as Json | undefined;
    if (counter && mine(counter) && isPolicyObjectName(String(counter.name))) {
      state.counters.add(String(counter.name));
    }
  }
  return state;
}

export interface DropCounter {
  /** "drop/ing/<ns>/<pod>" */
  name: string;
  packets: number;
  bytes: number;
}

/** The drop counters of `nft -j list table inet tartan`. */
export function parseDropCounters(json: unknown): DropCounter[] {
  const items = ((json as { nftables?: Json[] } | undefined)?.nftables ?? []) as Json[];
  return items.flatMap((i) => {
    const c = i.counter as Json | undefined;
    if (!c || c.table !== TARTAN_TABLE || !String(c.name).startsWith("drop/")) return [];
    return [{ name: String(c.name), packets: Number(c.packets ?? 0), bytes: Number(c.bytes ?? 0) }];
  });
}
