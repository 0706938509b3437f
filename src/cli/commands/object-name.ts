import { parsePodRef } from "../pod-ref.ts";
import type { ResourceKind } from "../resource-kind.ts";

/**
 * The name and namespace of an object named on the command line: a pod goes through the one
 * pod-reference parser (POD or NS/POD), other kinds are NAME with -n.
 */
export function objectName(
  kind: ResourceKind,
  text: string,
  namespace: string | undefined,
): { name: string; namespace: string | undefined } {
  if (kind.kind === "Pod") return parsePodRef(text, namespace);
  return { name: text, namespace };
}
