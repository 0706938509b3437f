import { stripPod } from "../agent/policy-manager.ts";
import type { ExplainSnapshot } from "../calc/explain.ts";
import type { Datastore } from "../datastore/datastore.ts";
import {
  type IPAMBlockResource,
  type IPPoolResource,
  KINDS,
  type NodeResource,
} from "../model/cluster-resources.ts";
import {
  K8S_KINDS,
  type NamespaceResource,
  type NetworkPolicyResource,
  type PodResource,
} from "../model/k8s-resources.ts";
import type { Resource } from "../model/resource.ts";
import { storedObjectErrors } from "../model/validate-stored-object.ts";

/** The cluster's objects as every agent mirrors them, plus the pools (for `ipam`). */
export interface ClusterSnapshot extends ExplainSnapshot {
  pods: PodResource[];
  namespaces: NamespaceResource[];
  policies: NetworkPolicyResource[];
  nodes: NodeResource[];
  blocks: IPAMBlockResource[];
  pools: IPPoolResource[];
}

/**
 * Lists every kind policy, routing and IPAM read, and keeps what an agent's mirror keeps: Pods
 * stripped as on ingestion, objects the agents reject (storedObjectErrors) left out, so an
 * explanation is computed from the objects the agents enforce.
 */
export async function readClusterSnapshot(ds: Datastore): Promise<ClusterSnapshot> {
  const kinds = [
    K8S_KINDS.pod,
    K8S_KINDS.namespace,
    K8S_KINDS.networkPolicy,
    KINDS.node,
    KINDS.ipamBlock,
    KINDS.ipPool,
  ];
  const [pods, namespaces, policies, nodes, blocks, pools] = await Promise.all(
    kinds.map(async (k) => (await ds.list(k)).items),
  );
  const valid = <T extends Resource>(items: Resource[], strip?: (o: Resource) => Resource): T[] =>
    items.flatMap((o) => {
      try {
        const kept = strip ? strip(o) : o;
        return storedObjectErrors(kept).length === 0 ? [kept as T] : [];
      } catch {
        return [];
      }
    });
  return {
    pods: valid<PodResource>(pods!, stripPod),
    namespaces: valid<NamespaceResource>(namespaces!),
    policies: valid<NetworkPolicyResource>(policies!),
    nodes: valid<NodeResource>(nodes!),
    blocks: valid<IPAMBlockResource>(blocks!),
    pools: valid<IPPoolResource>(pools!),
  };
}
