import { TartanError } from "../errors/tartan-error.ts";

export interface PodRef {
  namespace: string;
  name: string;
}

// Kubernetes object names (DNS-1123 subdomain, shortened): what K8S_POD_NAME/NAMESPACE carry.
const NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;

/** `POD` or `NAMESPACE/POD` (namespace "default" when omitted), as `kubectl` users write it. */
export function parsePodRef(text: string, namespace?: string): PodRef {
  const slash = text.indexOf("/");
  const ref =
    slash >= 0
      ? { namespace: text.slice(0, slash), name: text.slice(slash + 1) }
      : { namespace: namespace ?? "default", name: text };
  for (const [what, v] of [
    ["namespace", ref.namespace],
    ["pod name", ref.name],
  ] as const) {
    if (!NAME_RE.test(v)) {
      throw new TartanError(
        "lab-pod-name",
        `${what} "${v}" is not valid`,
        "use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
      );
    }
  }
  return ref;
}
