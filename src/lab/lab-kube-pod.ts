import type { PodResource } from "../model/k8s-resources.ts";
import type { Resource } from "../model/resource.ts";
import { labKubeApi } from "./lab-kube-api.ts";
import type { LabState } from "./lab-state.ts";

const podPath = (ns: string, name?: string) =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/pods${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;

/**
 * Kubernetes mode: the Pod goes in through the API before its CNI ADD, as a scheduler-bound Pod
 * does (and its Namespace first when missing, which the stand-in server would not refuse).
 */
export async function createLabPod(state: LabState, manifest: PodResource): Promise<void> {
  const ns = manifest.metadata.namespace ?? "default";
  await labKubeApi(
    state,
    "POST",
    "/api/v1/namespaces",
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
    { ok: [201, 409] },
  );
  await labKubeApi(state, "POST", podPath(ns), manifest);
}

/** What kubelet writes once the runtime reports the sandbox's network: phase, hostIP, podIP(s). */
export async function reportLabPodIps(
  state: LabState,
  ns: string,
  name: string,
  hostIP: string,
  cidrs: string[],
): Promise<void> {
  const ips = cidrs.map((c) => c.split("/")[0]!);
  await labKubeApi(
    state,
    "PATCH",
    `${podPath(ns, name)}/status`,
    {
      status: {
        phase: "Running",
        hostIP,
        ...(ips[0] ? { podIP: ips[0] } : {}),
        podIPs: ips.map((ip) => ({ ip })),
      },
    },
    { contentType: "application/merge-patch+json" },
  );
}

export async function deleteLabPod(state: LabState, ns: string, name: string): Promise<void> {
  await labKubeApi(state, "DELETE", podPath(ns, name), undefined, { ok: [200, 404] });
}

/** `lab label` in Kubernetes mode: a merge patch of the labels (`k=v` sets, `k-` removes). */
export async function labelLabObject(
  state: LabState,
  kind: "pod" | "namespace",
  ns: string,
  name: string,
  changes: string[],
): Promise<Resource> {
  const labels: Record<string, string | null> = {};
  for (const c of changes) {
    if (c.endsWith("-")) labels[c.slice(0, -1)] = null;
    else {
      const eq = c.indexOf("=");
      labels[c.slice(0, eq)] = c.slice(eq + 1);
    }
  }
  const path = kind === "pod" ? podPath(ns, name) : `/api/v1/namespaces/${encodeURIComponent(name)}`;
  const r = await labKubeApi(
    state,
    "PATCH",
    path,
    { metadata: { labels } },
    { contentType: "application/merge-patch+json" },
  );
  return r.body as unknown as Resource;
}
