import type { NetworkPolicyResource } from "../model/k8s-resources.ts";

/** "<ns>/<name>" of an object. */
export const objectKey = (o: { metadata: { namespace?: string; name: string } }): string =>
  `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;

/** Policies in compile order (by "<ns>/<name>"). */
export function sortPolicies(policies: Iterable<NetworkPolicyResource>): NetworkPolicyResource[] {
  return [...policies].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
}
