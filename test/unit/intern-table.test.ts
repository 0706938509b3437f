import { describe, expect, test } from "bun:test";
import { FNV_OFFSET, fnv1a } from "../../src/model/fnv1a.ts";
import { InternTable } from "../../src/model/intern-table.ts";

type Pair = { a: string; b: number };
const hashOf = (p: Pair) => fnv1a(`${p.a}|${p.b}`, FNV_OFFSET);
const same = (x: Pair, y: Pair) => x.a === y.a && x.b === y.b;

describe("InternTable", () => {
  test("equal values give the first one kept; different values stay apart", () => {
    const t = new InternTable<Pair>(hashOf, same);
    const first = { a: "x", b: 1 };
    expect(t.intern(first)).toBe(first);
    expect(t.intern({ a: "x", b: 1 })).toBe(first);
    const other = { a: "x", b: 2 };
    expect(t.intern(other)).toBe(other);
    expect(t.size).toBe(2);
  });

  test("keep makes the shared value, once, and never hands back the caller's object then", () => {
    const t = new InternTable<Pair>(hashOf, same);
    let copies = 0;
    const keep = (p: Pair) => {
      copies++;
      return Object.freeze({ ...p });
    };
    const mine = { a: "y", b: 3 };
    const shared = t.intern(mine, keep);
    expect(shared).not.toBe(mine);
    expect(shared).toEqual(mine);
    expect(Object.isFrozen(shared)).toBe(true);
    expect(Object.isFrozen(mine)).toBe(false);
    expect(t.intern({ a: "y", b: 3 }, keep)).toBe(shared);
    expect(copies).toBe(1);
  });

  test("colliding hashes are told apart by equality", () => {
    const t = new InternTable<Pair>(() => 7, same);
    const vs = Array.from({ length: 20 }, (_, i) => ({ a: `v${i}`, b: i }));
    for (const v of vs) expect(t.intern(v)).toBe(v);
    for (const v of vs) expect(t.intern({ ...v })).toBe(v);
  });

  test("bounded: two generations at most; a value used again moves to the current one", () => {
    const t = new InternTable<Pair>(hashOf, same, 4);
    const kept = { a: "kept", b: 0 };
    t.intern(kept);
    for (let i = 1; i < 4; i++) t.intern({ a: "n", b: i }); // fills generation 1: it becomes the previous one
    expect(t.intern({ a: "kept", b: 0 })).toBe(kept); // found in the previous generation, moved up
    for (let i = 0; i < 100; i++) t.intern({ a: "m", b: i });
    expect(t.size).toBeLessThanOrEqual(8);
    // Gone from the table after two rotations without use: a new equal value is kept as itself.
    const again = { a: "n", b: 1 };
    expect(t.intern(again)).toBe(again);
  });

  test("fnv1a: the 32-bit FNV-1a of the text, chained", () => {
    // Reference values of FNV-1a 32 ("" and "a"), as signed 32-bit integers.
    expect(fnv1a("", FNV_OFFSET) >>> 0).toBe(0x811c9dc5);
    expect(fnv1a("a", FNV_OFFSET) >>> 0).toBe(0xe40c292c);
    expect(fnv1a("b", fnv1a("a", FNV_OFFSET)) >>> 0).toBe(fnv1a("ab", FNV_OFFSET) >>> 0);
  });

  test("find compares a probe of another shape and builds only when nothing matches", () => {
    const t = new InternTable<Pair>(hashOf, same);
    // The probe is a text "a|b": the value is built from it only on a miss.
    const matches = (x: Pair, probe: string) => `${x.a}|${x.b}` === probe;
    let built = 0;
    const make = (probe: string): Pair => {
      built++;
      const [a, b] = probe.split("|");
      return Object.freeze({ a: a!, b: Number(b) });
    };
    const h = (probe: string) => fnv1a(probe, FNV_OFFSET);
    const first = t.find(h("x|1"), "x|1", matches, make);
    expect(first).toEqual({ a: "x", b: 1 });
    expect(t.find(h("x|1"), "x|1", matches, make)).toBe(first);
    expect(built).toBe(1);
    // intern() and find() share the table: a value interned is found, and the other way round.
    expect(t.intern({ a: "x", b: 1 })).toBe(first);
    const interned = t.intern({ a: "z", b: 9 });
    expect(t.find(h("z|9"), "z|9", matches, make)).toBe(interned);
    expect(built).toBe(1);
    // Same hash, different value (a collision): kept apart.
    const other = t.find(h("x|1"), "x|2", matches, make);
    expect(other).toEqual({ a: "x", b: 2 });
    expect(other).not.toBe(first);
    expect(built).toBe(2);
  });

  test("find keeps the two-generation bound", () => {
    const t = new InternTable<Pair>(hashOf, same, 4);
    const matches = (x: Pair, probe: Pair) => same(x, probe);
    const make = (p: Pair) => ({ ...p });
    for (let i = 0; i < 20; i++) t.find(hashOf({ a: "k", b: i }), { a: "k", b: i }, matches, make);
    expect(t.size).toBeLessThanOrEqual(8);
  });
});
