import type { Database } from "bun:sqlite";
import { TartanError } from "../../errors/tartan-error.ts";

/** Bump together with a new entry in MIGRATIONS; user_version in the file says which ones ran. */
export const IPAM_SCHEMA_VERSION = 2;

/**
 * MIGRATIONS[i] takes a database from user_version i to i + 1. Version 1 is the first schema;
 * version 2 adds node_block, the blocks the agent gave this node (block IPAM with node affinity).
 * reservation's primary key (network, ip) is the UNIQUE constraint that is the last line of
 * defence against handing out an address twice, whatever the allocator does; CHECKs keep a row
 * from ever being half filled. WITHOUT ROWID: every lookup is by key, so the key is the table.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE reservation (
     network TEXT NOT NULL CHECK (network <> ''),
     ip TEXT NOT NULL CHECK (ip <> ''),
     container_id TEXT NOT NULL CHECK (container_id <> ''),
     ifname TEXT NOT NULL CHECK (ifname <> ''),
     range_key TEXT NOT NULL CHECK (range_key <> ''),
     PRIMARY KEY (network, ip)
   ) WITHOUT ROWID;
   CREATE INDEX reservation_owner ON reservation (network, container_id, ifname);
   CREATE TABLE range_cursor (
     network TEXT NOT NULL,
     range_key TEXT NOT NULL,
     ip TEXT NOT NULL,
     PRIMARY KEY (network, range_key)
   ) WITHOUT ROWID;
   CREATE TABLE attachment (
     network TEXT NOT NULL,
     container_id TEXT NOT NULL,
     ifname TEXT NOT NULL,
     netns TEXT NOT NULL,
     host_ifname TEXT NOT NULL,
     result TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (network, container_id, ifname)
   ) WITHOUT ROWID;`,
  `CREATE TABLE node_block (
     network TEXT NOT NULL CHECK (network <> ''),
     cidr TEXT NOT NULL CHECK (cidr <> ''),
     position INTEGER NOT NULL,
     PRIMARY KEY (network, cidr)
   ) WITHOUT ROWID;`,
];

function userVersion(db: Database): number {
  return (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
}

/**
 * Brings the file to IPAM_SCHEMA_VERSION. The common case (already current) costs one PRAGMA
 * read, because this runs on every CNI ADD. Migrations run under BEGIN IMMEDIATE and re-read the
 * version inside, so when many plugin processes open a fresh file at once exactly one migrates.
 */
export function ensureIpamSchema(db: Database, path: string): void {
  const found = userVersion(db);
  if (found === IPAM_SCHEMA_VERSION) return;
  if (found > IPAM_SCHEMA_VERSION) {
    throw new TartanError(
      "ipam-store-too-new",
      `IPAM database ${path} has schema version ${found}, this tartan knows up to ${IPAM_SCHEMA_VERSION}`,
      "a newer tartan wrote it; install that version again (downgrades keep the file untouched)",
    );
  }
  // journal_mode is stored in the file, so it is set once, outside a transaction (SQLite's rule).
  if (found === 0) db.query("PRAGMA journal_mode = WAL").get();
  db.transaction(() => {
    for (let v = userVersion(db); v < IPAM_SCHEMA_VERSION; v++) {
      db.run(MIGRATIONS[v] ?? "");
      db.run(`PRAGMA user_version = ${v + 1}`);
    }
  }).immediate();
}
