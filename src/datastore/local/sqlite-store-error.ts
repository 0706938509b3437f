import { TartanError } from "../../errors/tartan-error.ts";

/**
 * Turns a SQLite or file-system failure into a TartanError that says what is wrong with the IPAM
 * database file and what to do. Unrecognised errors come back unchanged (they are bugs, and
 * their stack matters more than a hint).
 */
export function sqliteStoreError(path: string, e: unknown): unknown {
  if (e instanceof TartanError || !(e instanceof Error)) return e;
  const raw = (e as { code?: unknown }).code;
  // Extended result codes (SQLITE_IOERR_WRITE, SQLITE_CANTOPEN_ISDIR) share their base's meaning.
  const code = typeof raw === "string" && raw.startsWith("SQLITE_") ? raw.split("_", 2).join("_") : raw;
  const opts = { cause: e };
  switch (code) {
    case "SQLITE_NOTADB":
    case "SQLITE_CORRUPT":
      return new TartanError(
        "ipam-store-corrupt",
        `IPAM database ${path} is corrupt or not a SQLite file: ${e.message}`,
        "move the file (and its -wal/-shm) aside: tartan then starts an empty store, which no longer knows " +
          "the addresses of running pods, so re-create this node's pods (drain it) before new ones start",
        opts,
      );
    case "SQLITE_BUSY":
    case "SQLITE_LOCKED":
      return new TartanError(
        "ipam-store-busy",
        `IPAM database ${path} stayed locked past the busy timeout: ${e.message}`,
        "another process holds the write lock for too long; retry, and look for a hung tartan process",
        opts,
      );
    case "SQLITE_CANTOPEN":
    case "SQLITE_READONLY":
    case "SQLITE_PERM":
    case "SQLITE_AUTH":
    case "EACCES":
    case "EPERM":
    case "EROFS":
    case "ENOTDIR":
    case "EEXIST":
      return new TartanError(
        "ipam-store-unwritable",
        `cannot open IPAM database ${path} for writing: ${e.message}`,
        "the plugin runs as root from the container runtime; check that the IPAM dataDir exists or can be " +
          "created, is a directory, is writable and is not on a read-only file system",
        opts,
      );
    case "SQLITE_FULL":
    case "SQLITE_IOERR":
    case "ENOSPC":
      return new TartanError(
        "ipam-store-io",
        `I/O error on IPAM database ${path}: ${e.message}`,
        "check free space and the health of the disk holding the IPAM dataDir",
        opts,
      );
    default:
      return e;
  }
}
