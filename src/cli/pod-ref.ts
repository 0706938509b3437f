import { TartanError } from "../errors/tartan-error.ts";

export interface PodRef {
  namespace: string;
  name: string;
}

// Kubernetes object names (DNS-1123 subdomain, shortened): what K8S_POD_NAME/NAMESPACE carry.
const NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;

/**
 * `POD` or `NAMESPACE/POD` (namespace from -n, else "default"), as `kubectl` users write it. The
 * one parser of pod references: every command that takes a pod goes through it.
 */
export function parsePodRef(text: string, namespace?: string): PodRef {
  const slash = text.indexOf("/");
  const ref =
    slash >= 0
      ? { namespace: text.slice(0, slash), name: text.slice(slash + 1) }
      : { namespace: namespace ?? "default", name: text };
  if (slash >= 0 && namespace !== undefined && namespace !== ref.namespace) {
    throw new TartanError(
      "cli-usage",
      `"${text}" names namespace ${ref.namespace}, but -n says ${namespace}`,
      "give the namespace once: NS/POD or -n NS POD",
    );
  }
  for (const [what, v] of [
    ["namespace", ref.namespace],
    ["pod name", ref.name],
  ] as const) {
    if (!NAME_RE.test(v)) {
      throw new TartanError(
        "cli-usage",
        `${what} "${v}" is not valid`,
        "a pod is POD or NAMESPACE/POD: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
      );
    }
  }
  return ref;
}
