/** Codes every cluster Datastore adapter fails with (datastore/datastore-error.ts gives their hints). */
export const DATASTORE_ERROR_CODES = [
  "datastore-conflict",
  "datastore-not-found",
  "datastore-unavailable",
  "datastore-invalid",
  "datastore-compacted",
  /** TLS to the datastore failed: a CA, certificate or key file unreadable, or a handshake refused. */
  "datastore-tls",
  /** The datastore refused the credentials (etcd user/password) or the user's permissions. */
  "datastore-auth",
] as const;
export type DatastoreErrorCode = (typeof DATASTORE_ERROR_CODES)[number];
