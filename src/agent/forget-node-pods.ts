import type { Datastore } from "../datastore/datastore.ts";
import { isConflictOrGone } from "../datastore/datastore-error.ts";
import { K8S_KINDS, type PodResource } from "../model/k8s-resources.ts";
import { CREATED_BY_CNI_ANNOTATION } from "./pod-ips.ts";

/**
 * The Pods of a reclaimed node give up their addresses (decision 0014): those addresses return to
 * the pool with the node's blocks, and a Pod object still carrying them would let NetworkPolicy
 * select the next pod that gets one of them (Kubernetes' pod GC deletes pods bound to a deleted
 * node for the same reason). A Pod the agent created itself is deleted; any other has its podIPs
 * emptied and its phase set to Failed. Each write is at the version read; a Pod changed meanwhile
 * (re-scheduled, re-wired) is left alone. Answers "namespace/name" of every Pod changed.
 */
export async function forgetNodePods(ds: Datastore, node: string): Promise<string[]> {
  const pods = (await ds.list(K8S_KINDS.pod)).items as PodResource[];
  const done: string[] = [];
  for (const p of pods) {
    if (p.spec?.nodeName !== node) continue;
    const id = `${p.metadata.namespace}/${p.metadata.name}`;
    try {
      if (p.metadata.annotations?.[CREATED_BY_CNI_ANNOTATION] === "true") {
        await ds.delete(K8S_KINDS.pod, p.metadata.name, p.metadata.namespace, p.metadata.resourceVersion);
      } else if (p.status?.podIPs?.length) {
        await ds.update({ ...p, status: { ...p.status, phase: "Failed", podIPs: [] } });
      } else {
        continue;
      }
      done.push(id);
    } catch (e) {
      if (!isConflictOrGone(e)) throw e;
    }
  }
  return done;
}
