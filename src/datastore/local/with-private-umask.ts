/**
 * Runs `fn` with the process umask at 077, so that what it creates is the owner's only: the
 * SQLite file 0600 (and its directories 0700). SQLite gives the -wal and -shm files it creates
 * later the database file's own mode, so they are 0600 as well. The umask is put back at once:
 * `fn` is synchronous, nothing else runs in between. Two syscalls, cheap enough for the plugin's
 * path.
 */
export function withPrivateUmask<T>(fn: () => T): T {
  const old = process.umask(0o077);
  try {
    return fn();
  } finally {
    process.umask(old);
  }
}
