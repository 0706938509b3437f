import { constants, Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { TartanError } from "../../errors/tartan-error.ts";
import { addressTakenError } from "../address-taken-error.ts";
import type { Allocation, Attachment, IpamStore, IpamTx } from "../ipam-store.ts";
import { ensureIpamSchema } from "./ipam-schema.ts";
import { sqliteStoreError } from "./sqlite-store-error.ts";
import { withPrivateUmask } from "./with-private-umask.ts";

export const IPAM_DB_FILE = "tartan-ipam.db";

/**
 * How long a plugin process waits for another one's write transaction. Transactions are short
 * (well under a millisecond), so hitting this means a process is stuck, not a busy node: a pod
 * storm of a hundred concurrent ADDs still queues for only a fraction of it.
 */
const BUSY_TIMEOUT_MS = 8000;

/** Atomics.wait on a private cell: a synchronous sleep with sub-millisecond resolution. */
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

interface ReservationRow {
  network: string;
  ip: string;
  container_id: string;
  ifname: string;
  range_key: string;
}

interface AttachmentRow {
  network: string;
  container_id: string;
  ifname: string;
  netns: string;
  host_ifname: string;
  result: string;
  created_at: number;
}

const toAllocation = (r: ReservationRow): Allocation => ({
  network: r.network,
  ip: r.ip,
  containerId: r.container_id,
  ifname: r.ifname,
  rangeKey: r.range_key,
});

const toAttachment = (r: AttachmentRow): Attachment => ({
  network: r.network,
  containerId: r.container_id,
  ifname: r.ifname,
  netns: r.netns,
  hostIfname: r.host_ifname,
  result: r.result,
  createdAt: r.created_at,
});

const isUniqueViolation = (e: unknown): boolean =>
  typeof (e as { code?: unknown })?.code === "string" &&
  (e as { code: string }).code.startsWith("SQLITE_CONSTRAINT");

/**
 * The node-local IpamStore: one SQLite file per dataDir, shared by every plugin process.
 *
 * Why it never hands out an address twice: every transaction starts with BEGIN IMMEDIATE, which
 * takes the database's single write lock before the first read, so two processes can never both
 * read "free" for the same address; and the (network, ip) primary key rejects a duplicate even if
 * the logic above were wrong. Why a crash is harmless: WAL commits are atomic, so a kill -9 at any
 * point leaves a transaction wholly committed or wholly absent. synchronous=NORMAL gives that for
 * process crashes; a power loss may drop the last commits, which is safe because every pod that
 * held those addresses died with the node.
 */
export class SqliteIpamStore implements IpamStore {
  private readonly tx: IpamTx;
  private readonly immediate: (fn: (tx: IpamTx) => unknown) => unknown;

  constructor(
    private readonly db: Database,
    readonly path: string,
  ) {
    this.tx = this.makeTx();
    this.immediate = db.transaction((fn: (tx: IpamTx) => unknown) => {
      const out = fn(this.tx);
      // An async fn would commit at its first await with the rest running unlocked: refuse it.
      if (out instanceof Promise) throw new Error("IpamStore.transaction: fn must be synchronous");
      return out;
    }).immediate;
  }

  /**
   * Waits for the write lock itself instead of through SQLite's busy handler, whose sleeps grow to
   * 25–100 ms: transactions here hold the lock for well under a millisecond, so with 16 pods
   * starting at once those sleeps, not the work, made the tail (bench:cni --concurrency 16). Here a
   * busy BEGIN IMMEDIATE is retried after 0.1–2 ms (jittered, doubling), up to BUSY_TIMEOUT_MS.
   * fn may run more than once; it touches only the transaction, which rolled back each time.
   */
  transaction<T>(fn: (tx: IpamTx) => T): T {
    const deadline = performance.now() + BUSY_TIMEOUT_MS;
    let waitMs = 0.1;
    for (;;) {
      try {
        return this.immediate(fn) as T;
      } catch (e) {
        if ((e as { code?: string }).code === "SQLITE_BUSY" && performance.now() < deadline) {
          Atomics.wait(SLEEPER, 0, 0, waitMs * (0.5 + Math.random()));
          waitMs = Math.min(waitMs * 2, 2);
          continue;
        }
        throw sqliteStoreError(this.path, e);
      }
    }
  }

  /** PRAGMA integrity_check: ["ok"] when the file is sound, else SQLite's list of problems. */
  integrityCheck(): string[] {
    const rows = this.db.query("PRAGMA integrity_check").all() as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check);
  }

  close(): void {
    this.db.close();
  }

  private makeTx(): IpamTx {
    // db.query caches the compiled statement per SQL text on this connection.
    const q = (sql: string) => this.db.query(sql);
    const owner = "network = ? AND container_id = ? AND ifname = ?";
    return {
      isAllocated: (network, ip) =>
        q("SELECT 1 FROM reservation WHERE network = ? AND ip = ?").get(network, ip) !== null,
      allocations: (network) =>
        (q("SELECT * FROM reservation WHERE network = ? ORDER BY ip").all(network) as ReservationRow[]).map(
          toAllocation,
        ),
      countAllocations: (network) =>
        (q("SELECT count(*) AS n FROM reservation WHERE network = ?").get(network) as { n: number }).n,
      allocationsOf: (network, containerId, ifname) =>
        (
          q(`SELECT * FROM reservation WHERE ${owner} ORDER BY ip`).all(
            network,
            containerId,
            ifname,
          ) as ReservationRow[]
        ).map(toAllocation),
      reserve: (a) => {
        try {
          q(
            "INSERT INTO reservation (network, ip, container_id, ifname, range_key) VALUES (?, ?, ?, ?, ?)",
          ).run(a.network, a.ip, a.containerId, a.ifname, a.rangeKey);
        } catch (e) {
          throw isUniqueViolation(e) ? addressTakenError(a.network, a.ip) : e;
        }
      },
      release: (network, containerId, ifname) =>
        (
          q(`DELETE FROM reservation WHERE ${owner} RETURNING *`).all(
            network,
            containerId,
            ifname,
          ) as ReservationRow[]
        ).map(toAllocation),
      lastReserved: (network, rangeKey) =>
        (
          q("SELECT ip FROM range_cursor WHERE network = ? AND range_key = ?").get(network, rangeKey) as {
            ip: string;
          } | null
        )?.ip,
      setLastReserved: (network, rangeKey, ip) => {
        q(
          "INSERT INTO range_cursor (network, range_key, ip) VALUES (?, ?, ?) " +
            "ON CONFLICT (network, range_key) DO UPDATE SET ip = excluded.ip",
        ).run(network, rangeKey, ip);
      },
      putAttachment: (a) => {
        q(
          "INSERT OR REPLACE INTO attachment " +
            "(network, container_id, ifname, netns, host_ifname, result, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ).run(a.network, a.containerId, a.ifname, a.netns, a.hostIfname, a.result, a.createdAt);
      },
      getAttachment: (network, containerId, ifname) => {
        const row = q(`SELECT * FROM attachment WHERE ${owner}`).get(network, containerId, ifname);
        return row ? toAttachment(row as AttachmentRow) : undefined;
      },
      deleteAttachment: (network, containerId, ifname) => {
        q(`DELETE FROM attachment WHERE ${owner}`).run(network, containerId, ifname);
      },
      attachments: (network) =>
        (
          q("SELECT * FROM attachment WHERE network = ? ORDER BY container_id, ifname").all(
            network,
          ) as AttachmentRow[]
        ).map(toAttachment),
      networks: () =>
        (
          q(
            "SELECT network FROM reservation UNION SELECT network FROM attachment ORDER BY network",
          ).all() as { network: string }[]
        ).map((r) => r.network),
      nodeBlocks: (network) =>
        (
          q("SELECT cidr FROM node_block WHERE network = ? ORDER BY position").all(network) as {
            cidr: string;
          }[]
        ).map((r) => r.cidr),
      setNodeBlocks: (network, blocks) => {
        q("DELETE FROM node_block WHERE network = ?").run(network);
        const insert = q("INSERT INTO node_block (network, cidr, position) VALUES (?, ?, ?)");
        blocks.forEach((cidr, i) => {
          insert.run(network, cidr, i);
        });
      },
    };
  }
}

/**
 * Opens (creating when missing, unless readOnly) `<dataDir>/tartan-ipam.db`. Runs on every CNI
 * ADD, so the common path is: mkdir (exists), open, a few PRAGMAs, read user_version. Failures
 * become TartanErrors with codes ipam-store-unwritable / ipam-store-corrupt (ipam-store-missing
 * when readOnly) and a hint.
 */
export function openSqliteIpamStore(dataDir: string, opts: { readOnly?: boolean } = {}): SqliteIpamStore {
  // Template, not node:path: loading node:path costs start-up time on every plugin run.
  const path = `${dataDir.replace(/\/+$/, "")}/${IPAM_DB_FILE}`;
  let db: Database | undefined;
  if (opts.readOnly) {
    // Readers (tartan ipam ls) never create: a mistyped directory must not become a new store.
    if (!existsSync(path)) {
      throw new TartanError(
        "ipam-store-missing",
        `no IPAM store at ${dataDir}`,
        `check --data-dir: the IPAM config's dataDir, where ${IPAM_DB_FILE} is; the first CNI ADD creates it`,
      );
    }
    try {
      db = new Database(path, { readonly: true, strict: true });
      ensureIpamSchema(db, path);
      return new SqliteIpamStore(db, path);
    } catch (e) {
      db?.close();
      throw sqliteStoreError(path, e);
    }
  }
  try {
    // 0700 / 0600 (and -wal/-shm 0600): the file maps pods to addresses; nobody but root needs
    // to read it, nor to write it (docs/security.md).
    db = withPrivateUmask(() => {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      return new Database(path, { create: true, readwrite: true, strict: true });
    });
    // First, so that every later statement (schema check included) waits instead of failing.
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.run("PRAGMA synchronous = NORMAL");
    // Keep the -wal/-shm files when the last connection closes: every plugin process is the last
    // one, and otherwise each would delete them and the next recreate them (measured with strace:
    // 4 fsyncs + 2 unlinks per process without, 3 fsyncs and no unlinks with).
    db.fileControl(constants.SQLITE_FCNTL_PERSIST_WAL, 1);
    // ...but empty: truncated to 0 bytes when the closing connection has checkpointed it. Each
    // plugin process writes once and exits, so the log never restarted within a connection; each
    // open recovered (scanned) the whole log and appended to it: 30 MB and ADD 6x slower after
    // 3,000 transactions (bench/ipam-history.ts).
    db.run("PRAGMA journal_size_limit = 0");
    ensureIpamSchema(db, path);
    // From here on transaction() waits for the write lock itself, with short sleeps.
    db.run("PRAGMA busy_timeout = 0");
    return new SqliteIpamStore(db, path);
  } catch (e) {
    db?.close();
    throw sqliteStoreError(path, e);
  }
}
