import { BGP_KINDS } from "./bgp-resources.ts";
import { KINDS } from "./cluster-resources.ts";
import { type FieldError, FieldErrors } from "./field-errors.ts";
import { InvalidObjectError } from "./invalid-object-error.ts";
import { K8S_KINDS } from "./k8s-resources.ts";
import { parseK8sObject } from "./parse-k8s-object.ts";
import { podPlainlyValid } from "./pod-plainly-valid.ts";
import { validateClusterObject } from "./validate-cluster-object.ts";

const CLUSTER_KINDS = new Set<string>(Object.values(KINDS));
// BGPConfiguration and BGPPeer go through parseK8sObject too: `tartan apply`'s rules.
const K8S = new Set<string>([...Object.values(K8S_KINDS), ...Object.values(BGP_KINDS)]);

/**
 * Why an object read back from the datastore must not be used, or [] when it is fine: the API
 * server's rules for Pods, Namespaces and NetworkPolicies (parseK8sObject, the same validation
 * `tartan apply` runs) and tartan's own for Nodes, IPAMBlocks and IPPools. The datastore only
 * checks names and keys, and anyone who reaches etcd can write around `tartan apply`; the agent
 * runs this on everything it ingests (kind-mirror.ts) so that no stored string reaches kernel
 * text (nft scripts, `ip -batch` lines) unchecked.
 *
 * A NetworkPolicy's spec is the exception: calc already reports a policy whose spec it cannot
 * compile (`policy-invalid`) and keeps the pods it selects isolated; dropping the whole policy
 * here would open them. Its strings do not reach nft text (sets are named by hashes, CIDRs and
 * ports are parsed), so only its metadata decides.
 */
export function storedObjectErrors(raw: unknown): FieldError[] {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return [{ field: "", reason: "not an object" }];
  }
  const o = raw as Record<string, unknown>;
  const kind = o.kind;
  if (typeof kind === "string" && K8S.has(kind)) {
    // The common case of a full sync's 10k pods, without building parseK8sObject's copy.
    if (kind === K8S_KINDS.pod && podPlainlyValid(raw)) return [];
    try {
      parseK8sObject(raw);
      return [];
    } catch (e) {
      if (!(e instanceof InvalidObjectError)) return [{ field: "", reason: String(e) }];
      return kind === K8S_KINDS.networkPolicy
        ? e.errors.filter((x) => !(x.field === "spec" || x.field.startsWith("spec.")))
        : [...e.errors];
    }
  }
  if (typeof kind === "string" && CLUSTER_KINDS.has(kind)) {
    const errs = new FieldErrors();
    validateClusterObject(o, errs);
    return errs.list;
  }
  return [];
}
