import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { TartanError } from "../../errors/tartan-error.ts";
import type { Resource } from "../../model/resource.ts";
import type { Datastore, ListResult, WatchEvent, WatchEventType, WatchHandle } from "../datastore.ts";
import { compactedError, datastoreError } from "../datastore-error.ts";
import { prepareWrite } from "../prepare-write.ts";
import { storeKey } from "../store-key.ts";
import { checkKind, checkName } from "../validate-resource.ts";
import { ensureDatastoreSchema } from "./datastore-schema.ts";
import { withPrivateUmask } from "./with-private-umask.ts";

export interface SqliteDatastoreOptions {
  /** How often watches look for other processes' writes (default 50 ms). */
  pollMs?: number;
  /** Events kept for watches to resume from; older ones are compacted away (default 10 000). */
  retainEvents?: number;
}

interface Watcher {
  kind: string;
  last: number;
  onEvent: (e: WatchEvent) => void;
  onError?: (e: Error) => void;
  closed: boolean;
}

interface EventRow {
  revision: number;
  type: WatchEventType;
  json: string;
}

const BUSY_TIMEOUT_MS = 5000;
/** chmod 0600 the database and its -wal/-shm files (existing ones, made before this rule). */
function tightenModes(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

/** Events fetched per watcher per poll: bounds one tick's work after a long pause. */
const POLL_BATCH = 1000;

/**
 * The `local` Datastore: a single-host cluster state in one SQLite file (WAL), shared by every
 * tartan process on the host. Writes are BEGIN IMMEDIATE transactions that check the version,
 * write the object and append to the event log under one lock, so compare-and-swap holds across
 * processes. Watches poll the log: `PRAGMA data_version` tells in one cheap call whether another
 * connection committed since the last look, so an idle watch costs next to nothing; writes made
 * through this instance wake its watches at once.
 */
export class SqliteDatastore implements Datastore {
  private readonly watchers = new Set<Watcher>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastDataVersion = -1;
  private localWrite = true;
  private pumping = false;
  private closed = false;
  private readonly pollMs: number;
  private readonly retainEvents: number;

  private constructor(
    private readonly db: Database,
    readonly path: string,
    opts: SqliteDatastoreOptions,
  ) {
    this.pollMs = opts.pollMs ?? 50;
    this.retainEvents = opts.retainEvents ?? 10_000;
  }

  /** Opens (creating when missing) the database file and its directory. */
  static open(path: string, opts: SqliteDatastoreOptions = {}): SqliteDatastore {
    try {
      // The cluster's objects: 0600 file, 0700 new directories (docs/security.md). A file made
      // by an older version is tightened too (the -wal/-shm files follow the database's mode).
      const db = withPrivateUmask(() => {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        return new Database(path, { create: true, strict: true });
      });
      if (path !== ":memory:") tightenModes(path);
      db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.run("PRAGMA journal_mode = WAL");
      db.run("PRAGMA synchronous = NORMAL");
      ensureDatastoreSchema(db);
      return new SqliteDatastore(db, path, opts);
    } catch (e) {
      throw datastoreError("datastore-unavailable", `cannot open local datastore ${path}: ${String(e)}`, e);
    }
  }

  async get(kind: string, name: string, namespace?: string): Promise<Resource | undefined> {
    checkKind(kind);
    checkName(name, namespace || undefined);
    const row = this.guard(() =>
      this.db.query("SELECT json FROM objects WHERE key = ?").get(storeKey(kind, name, namespace)),
    ) as { json: string } | null;
    return row ? (JSON.parse(row.json) as Resource) : undefined;
  }

  async list(kind: string, namespace?: string): Promise<ListResult> {
    checkKind(kind);
    if (namespace) checkName("x", namespace);
    const prefix = namespace ? storeKey(kind, "", namespace) : `${kind}/`;
    // One read transaction: the items and the revision come from the same snapshot.
    return this.guard(() =>
      this.db.transaction(() => {
        const rows = this.db
          .query("SELECT json FROM objects WHERE kind = ? AND substr(key, 1, ?) = ? ORDER BY key")
          .all(kind, prefix.length, prefix) as { json: string }[];
        return {
          items: rows.map((r) => JSON.parse(r.json) as Resource),
          revision: String(this.meta("revision")),
        };
      })(),
    );
  }

  async create(obj: Resource): Promise<Resource> {
    const o = prepareWrite(obj, "create");
    const key = storeKey(o.kind, o.metadata.name, o.metadata.namespace);
    return this.write(key, (cur) => {
      if (cur) throw datastoreError("datastore-conflict", `${key} already exists`);
      return { type: "ADDED", obj: o };
    });
  }

  async update(obj: Resource): Promise<Resource> {
    const o = prepareWrite(obj, "update");
    const key = storeKey(o.kind, o.metadata.name, o.metadata.namespace);
    return this.write(key, (cur) => {
      if (!cur) throw datastoreError("datastore-not-found", `${key} does not exist`);
      if (String(cur.revision) !== o.metadata.resourceVersion) {
        throw datastoreError(
          "datastore-conflict",
          `${key} is at version ${cur.revision}, not ${o.metadata.resourceVersion}`,
        );
      }
      return { type: "MODIFIED", obj: o };
    });
  }

  async delete(kind: string, name: string, namespace?: string, resourceVersion?: string): Promise<void> {
    checkKind(kind);
    checkName(name, namespace || undefined);
    const key = storeKey(kind, name, namespace);
    await this.write(key, (cur) => {
      if (!cur) throw datastoreError("datastore-not-found", `${key} does not exist`);
      if (resourceVersion !== undefined && String(cur.revision) !== resourceVersion) {
        throw datastoreError(
          "datastore-conflict",
          `${key} is at version ${cur.revision}, not ${resourceVersion}`,
        );
      }
      return { type: "DELETED", obj: JSON.parse(cur.json) as Resource };
    });
  }

  watch(
    kind: string,
    fromRevision: string,
    onEvent: (e: WatchEvent) => void,
    onError?: (e: Error) => void,
  ): WatchHandle {
    checkKind(kind);
    const w: Watcher = { kind, last: Number(fromRevision), onEvent, onError, closed: false };
    this.watchers.add(w);
    this.timer ??= setInterval(() => this.pump(), this.pollMs);
    // The backlog (events after fromRevision) is delivered on the next turn, never inside watch().
    this.wake();
    return {
      close: () => {
        w.closed = true;
        this.watchers.delete(w);
        this.stopTimerIfIdle();
      },
    };
  }

  /** Deletes the events up to and including `revision`; watches from before it get datastore-compacted. */
  async compact(revision: string): Promise<void> {
    this.guard(() => this.db.transaction((r: number) => this.compactTo(r)).immediate(Number(revision)));
    this.wake();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers) w.closed = true;
    this.watchers.clear();
    this.stopTimerIfIdle();
    this.db.close();
  }

  private write(
    key: string,
    decide: (cur: { revision: number; json: string } | null) => { type: WatchEventType; obj: Resource },
  ): Resource {
    const stored = this.guard(() =>
      this.db
        .transaction(() => {
          const cur = this.db.query("SELECT revision, json FROM objects WHERE key = ?").get(key) as {
            revision: number;
            json: string;
          } | null;
          const { type, obj } = decide(cur);
          const rev = this.meta("revision") + 1;
          this.db.query("UPDATE meta SET value = ? WHERE key = 'revision'").run(rev);
          const out = structuredClone(obj);
          out.metadata.resourceVersion = String(rev);
          const json = JSON.stringify(out);
          if (type === "DELETED") this.db.query("DELETE FROM objects WHERE key = ?").run(key);
          else {
            this.db
              .query("INSERT OR REPLACE INTO objects (key, kind, revision, json) VALUES (?, ?, ?, ?)")
              .run(key, out.kind, rev, json);
          }
          this.db
            .query("INSERT INTO events (revision, type, kind, ns, name, json) VALUES (?, ?, ?, ?, ?, ?)")
            .run(rev, type, out.kind, out.metadata.namespace ?? "", out.metadata.name, json);
          // Amortised retention: trim in steps of a tenth so most writes do no deletion.
          const compacted = this.meta("compacted");
          if (rev - compacted > this.retainEvents * 1.1) this.compactTo(rev - this.retainEvents);
          return out;
        })
        .immediate(),
    );
    this.wake();
    return stored;
  }

  private compactTo(revision: number): void {
    const r = Math.min(revision, this.meta("revision"));
    if (r <= this.meta("compacted")) return;
    this.db.query("DELETE FROM events WHERE revision <= ?").run(r);
    this.db.query("UPDATE meta SET value = ? WHERE key = 'compacted'").run(r);
  }

  private meta(key: "revision" | "compacted"): number {
    return (this.db.query("SELECT value FROM meta WHERE key = ?").get(key) as { value: number }).value;
  }

  private wake(): void {
    this.localWrite = true;
    if (this.watchers.size > 0) setTimeout(() => this.pump(), 0);
  }

  private stopTimerIfIdle(): void {
    if (this.watchers.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** One look at the log for every watcher; cheap when nothing changed anywhere. */
  private pump(): void {
    if (this.closed || this.pumping || this.watchers.size === 0) return;
    this.pumping = true;
    try {
      const dv = (this.db.query("PRAGMA data_version").get() as { data_version: number }).data_version;
      if (dv === this.lastDataVersion && !this.localWrite) return;
      this.lastDataVersion = dv;
      this.localWrite = false;
      for (const w of [...this.watchers]) this.pumpOne(w);
    } catch (e) {
      // A transient failure (disk, lock past the timeout): the next tick tries again.
      for (const w of this.watchers) {
        w.onError?.(datastoreError("datastore-unavailable", `local datastore ${this.path}: ${String(e)}`, e));
      }
      this.localWrite = true;
    } finally {
      this.pumping = false;
    }
  }

  private pumpOne(w: Watcher): void {
    const batch = this.db.transaction(() => {
      const compacted = this.meta("compacted");
      if (w.last < compacted) return { compacted };
      const rows = this.db
        .query(
          "SELECT revision, type, json FROM events WHERE kind = ? AND revision > ? ORDER BY revision LIMIT ?",
        )
        .all(w.kind, w.last, POLL_BATCH) as EventRow[];
      return { rows, head: this.meta("revision") };
    })();
    if (batch.compacted !== undefined) {
      w.closed = true;
      this.watchers.delete(w);
      this.stopTimerIfIdle();
      w.onError?.(compactedError(w.last, batch.compacted));
      return;
    }
    for (const r of batch.rows) {
      if (w.closed) return;
      w.last = r.revision;
      w.onEvent({ type: r.type, object: JSON.parse(r.json) as Resource, revision: String(r.revision) });
    }
    // With a full batch there is more to read: look again on the next turn, not the next tick.
    if (batch.rows.length === POLL_BATCH) this.wake();
    // No event of this kind up to head: move on, so compaction of other kinds' events is no gap.
    else if (!w.closed) w.last = Math.max(w.last, batch.head);
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof TartanError) throw e;
      throw datastoreError("datastore-unavailable", `local datastore ${this.path}: ${String(e)}`, e);
    }
  }
}
