import type { Datastore } from "../datastore/datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import type { PodJoinRequest } from "../model/agent-api.ts";
import { K8S_API_VERSIONS, K8S_KINDS, type PodResource } from "../model/k8s-resources.ts";

/** The sandbox whose IPs the Pod carries: a late DEL of an old sandbox must not clear a new one's. */
export const CONTAINER_ID_ANNOTATION = "tartan.dev/container-id";
/** Set on Pods the agent created itself (no Pod object existed): they go away with their IPs. */
export const CREATED_BY_CNI_ANNOTATION = "tartan.dev/created-by-cni";

const conflict = (e: unknown) => e instanceof TartanError && e.code === "datastore-conflict";

/**
 * Records the pod's IPs and node on its Pod object (compare-and-swap, retried on conflict), or
 * creates a minimal Pod when none exists (a runtime that has no API server behind it). A pod in a
 * terminal phase that is wired again is a new incarnation: it becomes Running. Returns the stored object.
 */
export async function recordPodIps(
  ds: Datastore,
  nodeName: string,
  req: PodJoinRequest,
): Promise<PodResource> {
  for (let attempt = 0; ; attempt++) {
    const cur = (await ds.get(K8S_KINDS.pod, req.name, req.namespace)) as PodResource | undefined;
    const podIPs = req.ips.map((ip) => ({ ip }));
    try {
      if (!cur) {
        return (await ds.create({
          apiVersion: K8S_API_VERSIONS.Pod!,
          kind: K8S_KINDS.pod,
          metadata: {
            name: req.name,
            namespace: req.namespace,
            annotations: { [CONTAINER_ID_ANNOTATION]: req.containerId, [CREATED_BY_CNI_ANNOTATION]: "true" },
          },
          spec: { nodeName },
          status: { phase: "Running", podIPs },
        })) as PodResource;
      }
      const phase = cur.status?.phase;
      return (await ds.update({
        ...cur,
        metadata: {
          ...cur.metadata,
          annotations: { ...cur.metadata.annotations, [CONTAINER_ID_ANNOTATION]: req.containerId },
        },
        spec: { ...cur.spec, nodeName },
        status: {
          ...cur.status,
          phase: !phase || phase === "Succeeded" || phase === "Failed" ? "Running" : phase,
          podIPs,
        },
      })) as PodResource;
    } catch (e) {
      if (!conflict(e) || attempt >= 5) throw e;
    }
  }
}

/**
 * The sandbox is gone (CNI DEL): its IPs leave the Pod (a Pod the agent created goes entirely),
 * unless the Pod already belongs to another sandbox. Returns the stored object, or undefined.
 */
export async function clearPodIps(ds: Datastore, req: PodJoinRequest): Promise<PodResource | undefined> {
  for (let attempt = 0; ; attempt++) {
    const cur = (await ds.get(K8S_KINDS.pod, req.name, req.namespace)) as PodResource | undefined;
    if (!cur) return undefined;
    const owner = cur.metadata.annotations?.[CONTAINER_ID_ANNOTATION];
    if (owner !== undefined && owner !== req.containerId) return cur;
    try {
      if (cur.metadata.annotations?.[CREATED_BY_CNI_ANNOTATION] === "true") {
        await ds.delete(K8S_KINDS.pod, req.name, req.namespace, cur.metadata.resourceVersion);
        return undefined;
      }
      if (!cur.status?.podIPs?.length) return cur;
      return (await ds.update({ ...cur, status: { ...cur.status, podIPs: [] } })) as PodResource;
    } catch (e) {
      const gone = e instanceof TartanError && e.code === "datastore-not-found";
      if (gone) return undefined;
      if (!conflict(e) || attempt >= 5) throw e;
    }
  }
}
