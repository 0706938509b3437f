import { createHash } from "node:crypto";
import type { PodRef } from "../cli/pod-ref.ts";

/**
 * The pod's namespace: tl-<lab>-p-<ns>-<pod> when that is short and unambiguous, else a readable
 * head plus a hash. A '-' in the Kubernetes namespace would make "a-b/c" and "a/b-c" collide, so
 * such names always carry the hash.
 */
export function podNetnsName(netnsPrefix: string, pod: PodRef): string {
  const plain = `${netnsPrefix}p-${pod.namespace}-${pod.name}`;
  if (plain.length <= 48 && !pod.namespace.includes("-")) return plain;
  const hash = createHash("sha256").update(`${pod.namespace}/${pod.name}`).digest("hex").slice(0, 10);
  return `${plain.slice(0, 36)}-${hash}`;
}
