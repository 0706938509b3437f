import { TartanError } from "../../errors/tartan-error.ts";
import { datastoreError } from "../datastore-error.ts";

/**
 * Any failure of an etcd call becomes datastore-unavailable: down, unreachable, past the
 * deadline, closed, or an answer we could not use. Callers treat them all alike (keep working
 * from what they have, retry later); the message and cause keep the detail for the logs.
 */
export function etcdError(what: string, endpoints: readonly string[], e: unknown): TartanError {
  if (e instanceof TartanError) return e;
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return datastoreError("datastore-unavailable", `etcd ${endpoints.join(",")}: ${what} failed: ${msg}`, e);
}
