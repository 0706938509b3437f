import { TartanError } from "../../errors/tartan-error.ts";
import { datastoreError } from "../datastore-error.ts";
import { KubeStatusError } from "./kube-status-error.ts";

/**
 * A 404 on a collection (list, watch, create) means the resource itself is unknown to the API
 * server: tartan's CRDs are not installed (yet). Unavailable, not not-found: the agent retries,
 * and works once `kubectl apply -f deploy/tartan.yaml` has created them.
 */
export function missingResourceError(e: unknown, what: string, resource: string): TartanError | undefined {
  if (!(e instanceof KubeStatusError) || e.code !== 404) return undefined;
  return new TartanError(
    "datastore-unavailable",
    `${what}: the API server does not serve ${resource} (${e.message})`,
    resource.endsWith("tartan.dev")
      ? "install tartan's CustomResourceDefinitions: kubectl apply -f deploy/tartan.yaml (docs/kubernetes.md)"
      : "check the API server's version and the kubeconfig's server",
    { cause: e },
  );
}

/**
 * An API failure in the port's words (callers branch on the code, never on the adapter):
 * 409 AlreadyExists and Conflict → datastore-conflict; 404 → datastore-not-found; 410 Gone /
 * Expired → datastore-compacted (list again); 401/403 → datastore-auth; 400/415/422 →
 * datastore-invalid; anything else (5xx, 429, unreachable, timeouts) → datastore-unavailable.
 */
export function kubeDatastoreError(e: unknown, what: string): TartanError {
  if (e instanceof TartanError) return e;
  if (!(e instanceof KubeStatusError)) {
    return datastoreError(
      "datastore-unavailable",
      `${what}: ${e instanceof Error ? e.message : String(e)}`,
      e,
    );
  }
  switch (e.code) {
    case 409:
      return datastoreError("datastore-conflict", e.message, e);
    case 404:
      return datastoreError("datastore-not-found", e.message, e);
    case 410:
      return datastoreError("datastore-compacted", e.message, e);
    case 401:
    case 403:
      return new TartanError(
        "datastore-auth",
        e.message,
        e.code === 401
          ? "the API server did not accept our credentials: check the service account token or the kubeconfig user"
          : "the agent's ServiceAccount lacks this permission: compare the ClusterRole tartan-node with deploy/ (docs/decisions/0015)",
        { cause: e },
      );
    case 400:
    case 415:
    case 422:
      return datastoreError("datastore-invalid", e.message, e);
    default:
      return datastoreError("datastore-unavailable", e.message, e);
  }
}
