import { TartanError } from "../errors/tartan-error.ts";
import type { CniEnv } from "./cni-env.ts";

/**
 * How many plugins deep this call is, passed to delegated plugins in the environment (which the
 * spec says they get unchanged, so plugins in between pass it on too). `ipam.type` naming the
 * plugin itself is refused at parsing; this bounds every other loop (a wrapper that delegates
 * back to tartan, tartan installed under a second name).
 */
export const DELEGATION_DEPTH_ENV = "TARTAN_DELEGATION_DEPTH";
/** tartan → its IPAM is depth 1; room for one plugin in between, refused beyond. */
export const MAX_DELEGATION_DEPTH = 3;

export function delegationDepth(env: Record<string, string | undefined>): number {
  const v = env[DELEGATION_DEPTH_ENV];
  const n = v === undefined || !/^\d{1,6}$/.test(v) ? 0 : Number(v);
  return n;
}

/** Throws cni-delegation-too-deep when this call is deeper than the limit. */
export function checkDelegationDepth(env: Record<string, string | undefined>, cni?: CniEnv): void {
  const depth = delegationDepth(env);
  if (depth <= MAX_DELEGATION_DEPTH) return;
  throw new TartanError(
    "cni-delegation-too-deep",
    `plugin delegation is ${depth} calls deep (at most ${MAX_DELEGATION_DEPTH}): the IPAM plugins of this network call each other in a loop${cni ? ` (CNI_COMMAND ${cni.command})` : ""}`,
    'check "ipam.type" of the network config and of the plugins it delegates to',
  );
}
