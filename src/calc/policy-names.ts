import { createHash } from "node:crypto";

/**
 * Names of tartan's policy objects in `table inet tartan`. Sets are named by a hash of what
 * defines them (a peer's selectors, an ipBlock's CIDR), so the same definition keeps its name
 * across applies and restarts and only its elements change. Pod chains and counters are named
 * after the pod (readable in `nft list`, stable while the pod lives). nft identifiers may contain
 * '/', '.', '-' and '_', and Kubernetes names contain nothing else, so `ing/<ns>/<pod>` is one token.
 */
export function shortHash(text: string, hexDigits = 12): string {
  return createHash("sha256").update(text).digest("hex").slice(0, hexDigits);
}

/** The kernel limits object names to 255 bytes; Kubernetes names can reach 253 (+63 for the namespace). */
const MAX_NAME = 200;

export type Direction = "ingress" | "egress";
export const DIR_TAG: Record<Direction, string> = { ingress: "ing", egress: "egr" };

/** What Kubernetes names are made of (DNS-1123): also plain characters of an nft identifier. */
const NAME_PART = /^[a-z0-9][a-z0-9.-]*$/;

/**
 * The pod's chain for one direction: `ing/<ns>/<pod>`. Long names end with `_` and a hash ('~'
 * is not an nft identifier character: it broke the whole transaction); a namespace or name that
 * is not a Kubernetes name (the agent rejects those on ingestion; this is the second guard) is
 * replaced by `_r/<hash>`. `_` appears in no Kubernetes name, so neither form can clash with one.
 */
export function podChainName(dir: Direction, namespace: string, name: string): string {
  if (!NAME_PART.test(namespace) || !NAME_PART.test(name)) {
    return `${DIR_TAG[dir]}/_r/${shortHash(`${namespace}/${name}`, 16)}`;
  }
  const full = `${DIR_TAG[dir]}/${namespace}/${name}`;
  if (full.length <= MAX_NAME) return full;
  return `${DIR_TAG[dir]}/${namespace}/${name.slice(0, 100)}_${shortHash(`${namespace}/${name}`, 16)}`;
}

/** The named counter of the pod's drops in one direction: `drop/ing/<ns>/<pod>`. */
export function dropCounterName(dir: Direction, namespace: string, name: string): string {
  return `drop/${podChainName(dir, namespace, name)}`;
}

/**
 * The nfnetlink_log group of policy drops (`log group N` at the end of an isolated pod's chain):
 * the agent binds it in its node's namespace and reports the drops with names (`tartan drops`).
 */
export const DROP_LOG_GROUP = 7474;

export const POLICY_BASE_CHAIN = "policy-forward";
export const POD_MAP = {
  ingress: { 4: "ingress-pods4", 6: "ingress-pods6" },
  egress: { 4: "egress-pods4", 6: "egress-pods6" },
} as const;

/**
 * Whether a kernel object of `table inet tartan` belongs to the policy subsystem (the table also
 * holds the ipMasq chains `masq-*`, which policy code must never touch).
 */
export function isPolicyObjectName(name: string): boolean {
  return (
    name === POLICY_BASE_CHAIN ||
    /^(ingress|egress)-pods[46]$/.test(name) ||
    /^(ing|egr)\//.test(name) ||
    name.startsWith("drop/") ||
    /^(pods|blk|blkx|nport)[46]-[0-9a-f]+$/.test(name)
  );
}
