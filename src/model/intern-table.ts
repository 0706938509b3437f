/**
 * One shared, frozen copy per distinct value: the agent's mirrors hold 10k+ pods whose labels and
 * container ports repeat (every pod of a ReplicaSet has the same ones), and a copy per pod was
 * ~40% of a 10k-pod agent's model (docs/decisions/0024). Values are looked up by a numeric hash
 * and compared with `equal`, so the table keeps no text per entry.
 *
 * Bounded without reference counts: entries go into a current generation; when it holds
 * `generation` values it becomes the previous one and the one before is dropped. A value found in
 * the previous generation moves back into the current one. A value no longer in the table is
 * still correct wherever it is held (interning only shares; nothing depends on identity), so a
 * cluster with more distinct values than the table holds only shares less.
 */
const same = <T>(x: T): T => x;

export class InternTable<T> {
  private current = new Map<number, T[]>();
  private previous = new Map<number, T[]>();
  private count = 0;

  constructor(
    private readonly hash: (v: T) => number,
    private readonly equal: (a: T, b: T) => boolean,
    private readonly generation = 4096,
  ) {}

  /**
   * The shared value equal to `v`; when there is none, `keep(v)` becomes it (a frozen copy, say:
   * the caller's object must not be shared if the caller may still change it).
   */
  intern(v: T, keep: (v: T) => T = same): T {
    return this.find(this.hash(v), v, this.equal, keep);
  }

  /**
   * The shared value with hash `h` that `matches` `probe`; when there is none, `make(probe)`
   * becomes it. For a caller that hashes and compares its input without building a value first
   * (the pod strip reads a datastore object's fields): nothing is allocated when the value is
   * shared already, so no short-lived copy lands between the JS heap's long-lived objects (pass
   * functions that capture nothing, or each call allocates them). `make(probe)` must give a
   * value that matches `probe` and whose hash is `h`.
   */
  find<P>(h: number, probe: P, matches: (x: T, probe: P) => boolean, make: (probe: P) => T): T {
    const here = this.current.get(h);
    if (here) for (const x of here) if (matches(x, probe)) return x;
    const before = this.previous.get(h);
    let shared: T | undefined;
    if (before) for (const x of before) if (matches(x, probe)) shared = x;
    shared ??= make(probe);
    if (here) here.push(shared);
    else this.current.set(h, [shared]);
    if (++this.count >= this.generation) {
      this.previous = this.current;
      this.current = new Map();
      this.count = 0;
    }
    return shared;
  }

  /** Distinct values held (both generations; for tests). */
  get size(): number {
    let n = 0;
    for (const b of this.current.values()) n += b.length;
    for (const b of this.previous.values()) n += b.length;
    return n;
  }
}
