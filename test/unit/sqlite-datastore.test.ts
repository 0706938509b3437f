import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WatchEvent } from "../../src/datastore/datastore.ts";
import { SqliteDatastore } from "../../src/datastore/local/sqlite-datastore.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import { KINDS } from "../../src/model/cluster-resources.ts";
import { codeOf, datastoreContract, node } from "../contract/datastore-contract.ts";
import { eventually } from "../harness/eventually.ts";

datastoreContract("local (sqlite)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tt-t-ds-"));
  const ds = SqliteDatastore.open(join(dir, "state.db"));
  return {
    ds,
    compact: (r) => ds.compact(r),
    cleanup: async () => {
      await ds.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("local (sqlite) datastore specifics", () => {
  const withDir = async (fn: (dir: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), "tt-t-ds-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test("a watch sees writes of another connection (another process) by polling the log", async () => {
    await withDir(async (dir) => {
      const path = join(dir, "state.db");
      const reader = SqliteDatastore.open(path, { pollMs: 20 });
      const writer = await openDatastore({ type: "local", path });
      try {
        const seen: WatchEvent[] = [];
        const l = await reader.list(KINDS.node);
        const h = reader.watch(KINDS.node, l.revision, (e) => seen.push(e));
        const a = await writer.create(node("a"));
        await writer.update(a);
        await eventually("two watch events", () => seen.length >= 2, { timeoutMs: 3000, intervalMs: 10 });
        h.close();
        expect(seen.map((e) => e.type)).toEqual(["ADDED", "MODIFIED"]);
        // Compare-and-swap holds across connections too.
        expect(await codeOf(reader.update(a))).toBe("datastore-conflict");
      } finally {
        await reader.close();
        await writer.close();
      }
    });
  });

  test("state and revisions survive reopening; old events are compacted by retention", async () => {
    await withDir(async (dir) => {
      const path = join(dir, "state.db");
      const ds = SqliteDatastore.open(path, { retainEvents: 10 });
      const first = await ds.create(node("n0"));
      for (let i = 1; i < 30; i++) await ds.create(node(`n${i}`));
      await ds.close();
      const again = SqliteDatastore.open(path);
      try {
        const l = await again.list(KINDS.node);
        expect(l.items.length).toBe(30);
        expect(l.revision).toBe("30");
        const b = await again.create(node("later"));
        expect(b.metadata.resourceVersion).toBe("31");
        const errors: Error[] = [];
        const h = again.watch(
          KINDS.node,
          first.metadata.resourceVersion!,
          () => {},
          (e) => errors.push(e),
        );
        await eventually("the watch's error", () => errors.length > 0, { timeoutMs: 100, intervalMs: 10 });
        h.close();
        expect(errors.map((e) => (e as { code?: string }).code)).toEqual(["datastore-compacted"]);
      } finally {
        await again.close();
      }
    });
  });

  test("an unopenable path is datastore-unavailable", async () => {
    expect(await codeOf(openDatastore({ type: "local", path: "/proc/tt-no/state.db" }))).toBe(
      "datastore-unavailable",
    );
  });
});
