import type { DatastoreErrorCode } from "../errors/codes/datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";

export type { DatastoreErrorCode };

const HINTS: Record<DatastoreErrorCode, string> = {
  "datastore-conflict": "someone else changed it first: read it again and retry",
  "datastore-not-found": "it may have been deleted meanwhile: list again",
  "datastore-unavailable":
    "check that the datastore is running and reachable; tartan keeps working from what it has",
  "datastore-invalid": "this is a bug in the caller: the object must have a kind, a valid name and a spec",
  "datastore-compacted": "the revision is too old: list again and watch from the list's revision",
  "datastore-tls":
    "check the datastore's TLS files (agent config datastore.tls, or --etcd-ca/--etcd-cert/--etcd-key): see docs/security.md",
  "datastore-auth":
    "check the etcd user and password (datastore.auth, or --etcd-user/--etcd-password-file) and the user's role: see docs/security.md",
};

/** Every adapter fails with these codes, so callers branch on the code, never on the adapter. */
export function datastoreError(code: DatastoreErrorCode, message: string, cause?: unknown): TartanError {
  return new TartanError(code, message, HINTS[code], cause === undefined ? undefined : { cause });
}

/**
 * The error a watch gets when the revision it would resume from is older than the oldest event
 * the store still keeps (the in-memory and SQLite stores word it the same way).
 */
export function compactedError(revision: number, oldestKept: number): TartanError {
  return datastoreError(
    "datastore-compacted",
    `revision ${revision} was compacted (oldest kept: ${oldestKept})`,
  );
}

/**
 * A compare-and-swap write lost: the object changed (conflict) or went away (not found) since it
 * was read. Callers that act only on what they read treat both as "someone else got there".
 */
export function isConflictOrGone(e: unknown): boolean {
  return e instanceof TartanError && (e.code === "datastore-conflict" || e.code === "datastore-not-found");
}
