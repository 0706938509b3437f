import { describe, expect, test } from "bun:test";
import type { PeerSource } from "../../src/calc/policy-peer-source.ts";
import { SetRegistry, type SetThunk } from "../../src/calc/policy-set-registry.ts";

// Counts how often sets are built from the source: one build per set name and compile.
function source() {
  const built: string[] = [];
  const s: PeerSource = {
    podSetElements: (_p, text, f) => {
      built.push(`pods${f} ${text}`);
      return f === 4 ? ["10.0.0.1"] : [];
    },
    namedPortElements: (_p, text, protocol, name, f) => {
      built.push(`nport${f} ${text} ${protocol} ${name}`);
      return [];
    },
  };
  return { s, built };
}

describe("SetRegistry", () => {
  test("rules naming the same set record one thunk for it, not one each", () => {
    const { s, built } = source();
    const reg = new SetRegistry(s);
    const web = { namespace: "prod", podSelector: { matchLabels: { app: "web" } } };
    const db = { namespace: "prod", podSelector: { matchLabels: { app: "db" } } };
    const first: SetThunk[] = [];
    const second: SetThunk[] = [];
    const a = reg.recording(first, () => [
      reg.podSet(web, 4),
      reg.namedPortSet(web, "TCP", "http", 4),
      reg.ipBlockSets({ cidr: "10.1.0.0/16", except: ["10.1.2.0/24"] }).notIn,
    ]);
    // Another rule, same peer (a new but equal object) and the same sets, plus one of its own.
    const b = reg.recording(second, () => [
      reg.podSet({ ...web }, 4),
      reg.namedPortSet({ ...web }, "TCP", "http", 4),
      reg.ipBlockSets({ cidr: "10.1.0.0/16", except: ["10.1.2.0/24"] }).notIn,
      reg.podSet(db, 4),
    ]);
    expect(b.slice(0, 3)).toEqual(a);
    expect(second.slice(0, first.length)).toEqual(first);
    for (let i = 0; i < first.length; i++) expect(second[i]).toBe(first[i]!);
    expect(second[second.length - 1]!.name).toBe(b[3]!);
    expect(second[second.length - 1]).not.toBe(first[0]!);
    expect(built).toHaveLength(3);
    expect(reg.sets.size).toBe(5);

    // A later compile replays the memo's thunks: the sets are built again, once each.
    const next = new SetRegistry(s);
    const replayed: SetThunk[] = [];
    next.recording(replayed, () => next.replay(second));
    expect(built).toHaveLength(6);
    expect(next.podSet(web, 4)).toBe(a[0]!);
    expect(built).toHaveLength(6);
  });
});
