import type { Database } from "bun:sqlite";

/**
 * objects: the current state, one row per object, keyed by storeKey (so ORDER BY key is the
 * list order of every adapter). events: the change log watches read and resume from; its
 * revision is the global revision, like etcd's. meta: the last revision handed out and the
 * compaction point (the oldest revision a watch may start from).
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    revision INTEGER NOT NULL,
    json TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS objects_kind ON objects (kind, key);
  CREATE TABLE IF NOT EXISTS events (
    revision INTEGER PRIMARY KEY,
    type TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
    kind TEXT NOT NULL,
    ns TEXT NOT NULL,
    name TEXT NOT NULL,
    json TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS events_kind ON events (kind, revision);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('compacted', 0);
`;

export function ensureDatastoreSchema(db: Database): void {
  db.transaction(() => db.run(SCHEMA)).immediate();
}
