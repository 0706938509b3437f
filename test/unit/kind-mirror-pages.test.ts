// KindMirror over a datastore that hands its list over page by page (Datastore.listPages, the
// etcd adapter's): the mirror ends with exactly what one list would give, ingests (strips and
// validates) each page as it comes, keeps its items whole until the last page is in (a list that
// fails half-way changes nothing and is retried), and a mirror stopped mid-list keeps nothing.
import { describe, expect, test } from "bun:test";
import { KindMirror, type RejectedObject } from "../../src/agent/kind-mirror.ts";
import type { ListResult } from "../../src/datastore/datastore.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import type { Resource } from "../../src/model/resource.ts";
import { pod } from "../harness/k8s-objects.ts";

/** MemoryDatastore with listPages: pages of `size`, each handed over after a turn of the event loop. */
class PagedDatastore extends MemoryDatastore {
  pagesHanded = 0;
  /** Throw instead of reading the page with this index (once). */
  failAt: number | undefined;
  /** Called after each page is handed over (tests act between pages). */
  afterPage: ((i: number) => void) | undefined;

  constructor(private readonly size: number) {
    super();
  }

  async listPages(
    kind: string,
    onPage: (items: readonly Resource[]) => void,
    namespace?: string,
  ): Promise<Pick<ListResult, "revision">> {
    const all = await this.list(kind, namespace);
    for (let i = 0; i * this.size < all.items.length; i++) {
      await Bun.sleep(0);
      if (this.failAt === i) {
        this.failAt = undefined;
        throw new Error(`page ${i} lost`);
      }
      onPage(all.items.slice(i * this.size, (i + 1) * this.size));
      this.pagesHanded++;
      this.afterPage?.(i);
    }
    return { revision: all.revision };
  }
}

const POD_KIND = "Pod";
const pods = (n: number) =>
  Array.from({ length: n }, (_, i) => pod(`ns/p${i}`, [`10.0.${i >> 8}.${i & 255}`]));

async function filled(n: number, size: number): Promise<PagedDatastore> {
  const ds = new PagedDatastore(size);
  for (const p of pods(n)) await ds.create(p);
  return ds;
}

describe("KindMirror over paged lists", () => {
  test("the pages make the same items as one list; each page is ingested as it comes", async () => {
    const ds = await filled(23, 5);
    const stripped: string[] = [];
    let changes = 0;
    const m = new KindMirror(ds, POD_KIND, {
      onChange: () => changes++,
      onError: (e) => {
        throw e;
      },
      strip: (o) => {
        // The strip of page k runs before page k+1 is handed over.
        expect(ds.pagesHanded).toBe(Math.floor(stripped.length / 5));
        stripped.push(o.metadata.name);
        return o;
      },
    });
    await m.start();
    expect(ds.pagesHanded).toBe(5);
    expect(stripped).toHaveLength(23);
    const one = await ds.list(POD_KIND);
    expect([...m.items.keys()].sort()).toEqual(one.items.map((o) => `ns/${o.metadata.name}`).sort());
    expect(m.synced).toBe(true);
    expect(changes).toBe(1);
    m.stop();
  });

  test("items stay as they were until the last page is in; a list failing half-way changes nothing", async () => {
    const ds = await filled(12, 4);
    const errors: string[] = [];
    const timers: (() => void)[] = [];
    const m = new KindMirror(ds, POD_KIND, {
      onChange: () => {},
      onError: (e) => errors.push((e as Error).message),
      setTimeout: (fn) => timers.push(fn),
      clearTimeout: () => {},
    });
    await m.start();
    expect(m.items.size).toBe(12);
    // A relist (as after a watch failure) sees pages while the old items stay readable and whole.
    await ds.delete(POD_KIND, "p0", "ns");
    ds.afterPage = () => expect(m.items.size).toBe(12);
    ds.failAt = 2;
    (m as unknown as { relist(): Promise<void> }).relist();
    await Bun.sleep(20);
    expect(errors).toEqual(["page 2 lost"]);
    expect(m.items.size).toBe(12);
    expect(m.live).toBe(false);
    // The retry lists again, whole this time.
    ds.afterPage = undefined;
    timers.shift()!();
    await Bun.sleep(20);
    expect(m.items.size).toBe(11);
    expect(m.items.has("ns/p0")).toBe(false);
    m.stop();
  });

  test("a rejected object on a page is kept out and reported once; a mirror stopped mid-list keeps nothing", async () => {
    const ds = await filled(6, 2);
    await ds.create(pod("ns/bad", ["10.0.9.300"]));
    const rejected: RejectedObject[] = [];
    const m = new KindMirror(ds, POD_KIND, {
      onChange: () => {},
      onError: () => {},
      onRejected: (r) => rejected.push(r),
    });
    await m.start();
    expect(m.items.size).toBe(6);
    expect(rejected.map((r) => r.key)).toEqual(["ns/bad"]);
    expect(m.rejected.has("ns/bad")).toBe(true);
    m.stop();

    const m2 = new KindMirror(ds, POD_KIND, { onChange: () => {}, onError: () => {} });
    ds.afterPage = (i) => {
      if (i === 0) m2.stop();
    };
    await m2.start();
    expect(m2.items.size).toBe(0);
    expect(m2.synced).toBe(false);
  });
});
