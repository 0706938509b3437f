import { CniCode, CniError } from "../errors/cni-error.ts";
import type { ErrorCode } from "../errors/error-code.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { InvalidValueError } from "../model/invalid-value.ts";

/**
 * The CNI code a runtime sees for each TartanError code. A Record over the whole union: a new
 * code does not compile until it is mapped here. 11 ("try again later") is for what a retry can
 * fix (the agent or the datastore is away, a lock is busy); codes the plugin never raises (CLI,
 * lab, agent start-up) map to 999 so that, should one leak in, it reads as the bug it is.
 */
export const CNI_CODE_OF: Readonly<Record<ErrorCode, number>> = {
  // exec/
  "exec-failed": CniCode.kernel,
  // datastore/ (the plugin reaches the cluster datastore only through the agent)
  "datastore-conflict": CniCode.tryAgainLater,
  "datastore-not-found": CniCode.tryAgainLater,
  "datastore-unavailable": CniCode.tryAgainLater,
  "datastore-compacted": CniCode.tryAgainLater,
  "datastore-invalid": CniCode.internal,
  // A TLS or credential problem is configuration: a retry does not fix it.
  "datastore-tls": CniCode.invalidConfig,
  "datastore-auth": CniCode.invalidConfig,
  // dataplane/
  "kernel-op-failed": CniCode.kernel,
  "kernel-read-failed": CniCode.kernel,
  "sysctl-failed": CniCode.kernel,
  "nft-apply-failed": CniCode.kernel,
  "nft-list-failed": CniCode.kernel,
  "netns-missing": CniCode.unknownContainer,
  "invalid-sysctl-key": CniCode.internal,
  "invalid-kernel-op": CniCode.internal,
  "invalid-nft-table": CniCode.internal,
  // ipam/ and the IpamStore
  "ipam-config-invalid": CniCode.invalidConfig,
  "ipam-ip-not-in-range": CniCode.invalidConfig,
  "ipam-ip-request-invalid": CniCode.invalidConfig,
  "ipam-already-allocated": CniCode.invalidConfig,
  "ipam-pool-invalid": CniCode.invalidConfig,
  "ipam-ip-in-use": CniCode.tryAgainLater,
  "ipam-store-busy": CniCode.tryAgainLater,
  "ipam-exhausted": CniCode.rangeExhausted,
  "ipam-blocks-full": CniCode.rangeExhausted,
  "ipam-pool-exhausted": CniCode.rangeExhausted,
  "ipam-store-unwritable": CniCode.ioFailure,
  "ipam-store-corrupt": CniCode.ioFailure,
  "ipam-store-too-new": CniCode.ioFailure,
  "ipam-store-io": CniCode.ioFailure,
  "ipam-store-missing": CniCode.ioFailure,
  "ipam-release-refused": CniCode.internal,
  "ipam-not-reserved": CniCode.internal,
  // calc/ (agent only)
  "invalid-local-node": CniCode.internal,
  "local-node-missing": CniCode.internal,
  "explain-unknown-endpoint": CniCode.internal,
  // cni/: a CniError carries its own number and is returned as it is (see toCniError)
  "cni-error": CniCode.internal,
  "cni-not-a-bridge": CniCode.invalidConfig,
  "cni-netns-is-host": CniCode.invalidEnv,
  "cni-delegation-too-deep": CniCode.invalidConfig,
  "cni-stdin-too-large": CniCode.decodeFailure,
  // the agent, as the plugin meets it on its socket
  "agent-unreachable": CniCode.tryAgainLater,
  "agent-not-synced": CniCode.tryAgainLater,
  "policy-not-applied": CniCode.tryAgainLater,
  "agent-error": CniCode.tryAgainLater,
  "agent-wrong-network": CniCode.invalidConfig,
  "agent-no-pool": CniCode.invalidConfig,
  "policy-off": CniCode.invalidConfig,
  "agent-bad-request": CniCode.internal,
  "agent-not-found": CniCode.internal,
  "agent-internal": CniCode.internal,
  "agent-config-invalid": CniCode.internal,
  "agent-config-unreadable": CniCode.internal,
  "agent-already-running": CniCode.internal,
  "agent-underlay-missing": CniCode.internal,
  "agent-underlay-no-address": CniCode.internal,
  "bgp-off": CniCode.internal,
  "bgp-config-invalid": CniCode.internal,
  "bgp-bird-failed": CniCode.internal,
  // cli/ and lab/: never raised on the plugin path
  "cli-usage": CniCode.internal,
  "not-found": CniCode.internal,
  "object-invalid": CniCode.internal,
  "no-datastore": CniCode.internal,
  "needs-root": CniCode.internal,
  "install-source-missing": CniCode.internal,
  "install-failed": CniCode.internal,
  "install-verify-failed": CniCode.internal,
  "lab-usage": CniCode.internal,
  "lab-name": CniCode.internal,
  "lab-exists": CniCode.internal,
  "lab-not-up": CniCode.internal,
  "lab-state": CniCode.internal,
  "lab-locked": CniCode.internal,
  "lab-no-binary": CniCode.internal,
  "lab-no-datastore": CniCode.internal,
  "lab-no-etcd": CniCode.internal,
  "lab-etcd-running": CniCode.internal,
  "lab-etcd-exited": CniCode.internal,
  "lab-no-agent": CniCode.internal,
  "lab-agent-running": CniCode.internal,
  "lab-agent-exited": CniCode.internal,
  "lab-no-node": CniCode.internal,
  "lab-node-exists": CniCode.internal,
  "lab-forget-node": CniCode.internal,
  "lab-no-pod": CniCode.internal,
  "lab-pod-exists": CniCode.internal,
  "lab-cni-failed": CniCode.internal,
  "lab-objects-failed": CniCode.internal,
  "lab-probe": CniCode.internal,
  "lab-timeout": CniCode.internal,
  "lab-kube-api-exited": CniCode.internal,
  "lab-kube-api-failed": CniCode.internal,
  "lab-no-kubectl": CniCode.internal,
  "lab-no-frr": CniCode.internal,
  "lab-tor-exited": CniCode.internal,
  "lab-tor-vtysh": CniCode.internal,
};

/**
 * Any thrown value as the CniError the runtime gets: specific codes kept, TartanErrors mapped by
 * code. An unexpected error (a bug) keeps its stack out of msg and details — runtimes show those
 * to users and store them in events; `internalStack` gives it to the plugin's log instead.
 */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof InvalidValueError) return new CniError(CniCode.invalidConfig, e.message);
  if (e instanceof TartanError) {
    return new CniError(CNI_CODE_OF[e.code], e.message, "", e.hint, { cause: e });
  }
  const msg = e instanceof Error ? e.message : String(e);
  // One line: some messages (a RangeError from deep JSON, a runtime's own errors) span several.
  const first = msg.trim().split(/\r?\n/)[0] ?? "";
  return new CniError(
    CniCode.internal,
    `internal error: ${first.length > 300 ? `${first.slice(0, 300)}…` : first}`,
    "",
    "this is a bug in tartan; the plugin's log (stderr, TARTAN_LOG_FILE) has the stack trace",
    { cause: e },
  );
}

/** The stack trace of an unexpected error behind a CniError, for the log; undefined otherwise. */
export function internalStack(err: CniError): string | undefined {
  const cause = err.cause;
  return cause instanceof Error && !(cause instanceof TartanError) ? cause.stack : undefined;
}
