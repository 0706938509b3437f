/** Codes every cluster Datastore adapter fails with (datastore/datastore-error.ts gives their hints). */
export const DATASTORE_ERROR_CODES = [
  "datastore-conflict",
  "datastore-not-found",
  "datastore-unavailable",
  "datastore-invalid",
  "datastore-compacted",
] as const;
export type DatastoreErrorCode = (typeof DATASTORE_ERROR_CODES)[number];
