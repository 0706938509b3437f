import { TartanError } from "../../errors/tartan-error.ts";
import { datastoreError } from "../datastore-error.ts";

/** gRPC failures that mean "nobody answered": no connection, or no answer before the deadline. */
const UNREACHABLE_CLASSES = new Set(["GRPCUnavailableError", "GRPCDeadlineExceededError"]);
const UNREACHABLE_MESSAGE = /^\s*(?:14 UNAVAILABLE|4 DEADLINE_EXCEEDED)\b/;

/** The few words of a gRPC failure a user can act on, instead of "14 UNAVAILABLE: No connection…". */
function reasonOf(e: Error): string {
  if (e.constructor.name === "GRPCDeadlineExceededError" || /DEADLINE_EXCEEDED/.test(e.message)) {
    return "no answer before the call's deadline";
  }
  const last = /Last error: (?:Error: )?(.*?)(?:\. Resolution note|$)/.exec(e.message)?.[1]?.trim();
  if (last && /ECONNREFUSED/.test(last)) return "connection refused (nothing listens there)";
  if (last && /ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/.test(last)) return `no route or no answer (${last})`;
  if (last && /ENOTFOUND|EAI_AGAIN/.test(last)) return `the host name does not resolve (${last})`;
  return last ? `no connection (${last})` : "no connection";
}

/**
 * Any failure of an etcd call becomes datastore-unavailable: down, unreachable, past the
 * deadline, closed, or an answer we could not use. Callers treat them all alike (keep working
 * from what they have, retry later). When nobody answered (gRPC UNAVAILABLE or
 * DEADLINE_EXCEEDED) the message says so in words, naming the endpoints, and the hint says where
 * they are configured; the raw gRPC error stays in `cause` for the logs.
 */
export function etcdError(what: string, endpoints: readonly string[], e: unknown): TartanError {
  if (e instanceof TartanError) return e;
  const at = endpoints.join(", ");
  if (
    e instanceof Error &&
    (UNREACHABLE_CLASSES.has(e.constructor.name) || UNREACHABLE_MESSAGE.test(e.message))
  ) {
    return new TartanError(
      "datastore-unavailable",
      `the datastore at ${at} is unreachable: ${reasonOf(e)}; ${what} failed`,
      "is etcd running and listening at that address? Check the endpoints given with --datastore, or " +
        "`datastore.endpoints` in the agent config (a running agent keeps the kernel as it is and retries)",
      { cause: e },
    );
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return datastoreError("datastore-unavailable", `etcd ${at}: ${what} failed: ${msg}`, e);
}
