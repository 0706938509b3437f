import { TartanError } from "../../errors/tartan-error.ts";
import { datastoreError } from "../datastore-error.ts";
import { GRPC, GrpcError } from "./grpc-error.ts";

/** The few words of a gRPC failure a user can act on, instead of "14 UNAVAILABLE: no connection…". */
function reasonOf(e: GrpcError): string {
  if (e.code === GRPC.deadlineExceeded && !/last error:/.test(e.details)) {
    return "no answer before the call's deadline";
  }
  const last = /last error: (?:Error: )?(.*)$/.exec(e.details)?.[1]?.trim();
  if (last && /ECONNREFUSED/.test(last)) return "connection refused (nothing listens there)";
  // Also what an etcd going down mid-handshake causes, so it stays "unavailable" (retried).
  if (last && /before secure TLS connection was established/.test(last))
    return "the connection closed during the TLS handshake (an etcd without TLS? then use http://)";
  if (last && /ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/.test(last)) return `no route or no answer (${last})`;
  if (last && /ENOTFOUND|EAI_AGAIN/.test(last)) return `the host name does not resolve (${last})`;
  return last ? `no connection (${last})` : "no connection";
}

/** Failures of the TLS handshake, in the words of Bun's/BoringSSL's and Node's TLS. */
const TLS_FAILURES: readonly { re: RegExp; why: string; hint: string }[] = [
  {
    re: /BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|alert bad certificate|certificate required|alert unknown ca/i,
    why: "etcd refused our client certificate (none was given, or it is not signed by a CA etcd trusts)",
    hint:
      "give a client certificate signed by the CA of etcd's --trusted-ca-file: --etcd-cert and --etcd-key, " +
      "or datastore.tls.certFile and keyFile in the agent config (docs/security.md)",
  },
  {
    re: /unable to verify|self[- ]signed certificate|UNABLE_TO_GET_ISSUER|certificate has expired|CERT_HAS_EXPIRED|certificate is not yet valid/i,
    why: "etcd's certificate is not trusted: it is not signed by our CA (or has expired)",
    hint:
      "--etcd-ca (datastore.tls.caFile) must be the CA that signed etcd's --cert-file; check its dates with " +
      "openssl x509 -noout -dates -in FILE (docs/security.md)",
  },
  {
    re: /does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID|Hostname\/IP does not match/i,
    why: "etcd's certificate does not name the endpoint's host",
    hint: "connect by a name or IP listed in the subjectAltName of etcd's certificate, or reissue it with that name",
  },
  {
    re: /WRONG_VERSION_NUMBER|packet length too long|http_request|ssl3_get_record/i,
    why: "TLS was spoken to a plain-HTTP endpoint (or the other way round)",
    hint: "use http:// for an etcd without TLS, https:// (with --etcd-ca) for one with TLS",
  },
];

/** etcd's answers to a bad user, password or permission ("etcdserver: …"). */
const AUTH_MESSAGE =
  /authentication failed|permission denied|user name is empty|invalid auth token|user name not found/i;

/** A TLS or credentials failure as `datastore-tls`/`datastore-auth`, or undefined. */
function securityError(what: string, at: string, e: Error): TartanError | undefined {
  for (const f of TLS_FAILURES) {
    if (f.re.test(e.message)) {
      return new TartanError("datastore-tls", `the datastore at ${at}: ${f.why}; ${what} failed`, f.hint, {
        cause: e,
      });
    }
  }
  if ((e instanceof GrpcError && e.code === GRPC.unauthenticated) || AUTH_MESSAGE.test(e.message)) {
    const why = /permission denied/i.test(e.message)
      ? "the etcd user lacks permission for tartan's keys"
      : /user name is empty/i.test(e.message)
        ? "etcd requires a user (auth is enabled) and none was given"
        : "etcd refused the user name or password";
    return new TartanError(
      "datastore-auth",
      `the datastore at ${at}: ${why}; ${what} failed`,
      "check --etcd-user/--etcd-password-file (datastore.auth in the agent config) and that the user's role " +
        "grants readwrite on tartan's prefix (docs/security.md)",
      { cause: e },
    );
  }
  return undefined;
}

/**
 * A refused TLS handshake or credential is `datastore-tls`/`datastore-auth` (what was refused and
 * which file or setting to fix: a retry does not help). Any other failure of an etcd call becomes
 * datastore-unavailable: down, unreachable, past the deadline, closed, or an answer we could not
 * use. Callers treat them all alike (keep working from what they have, retry later). When nobody
 * answered (gRPC UNAVAILABLE or DEADLINE_EXCEEDED) the message says so in words, naming the
 * endpoints, and the hint says where they are configured; the GrpcError stays in `cause` for the
 * logs.
 */
export function etcdError(what: string, endpoints: readonly string[], e: unknown): TartanError {
  if (e instanceof TartanError) return e;
  const at = endpoints.join(", ");
  const security = e instanceof Error ? securityError(what, at, e) : undefined;
  if (security) return security;
  if (e instanceof GrpcError && (e.code === GRPC.unavailable || e.code === GRPC.deadlineExceeded)) {
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
