// Nodes, IPAM blocks and IP pools for tests, in the shape the datastore stores (the k8s kinds are
// in k8s-objects.ts).
import {
  blockName,
  type IPAMBlockResource,
  type IPPoolResource,
  KINDS,
  type NodeResource,
  type NodeSpec,
} from "../../src/model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../../src/model/resource.ts";

export function clusterNode(name: string, spec: NodeSpec): NodeResource {
  return { apiVersion: TARTAN_API_VERSION, kind: KINDS.node, metadata: { name }, spec };
}

/** A block of `pool` owned by `node`, named after its CIDR as claimBlock names it. */
export function ipamBlock(cidr: string, node: string, pool: string): IPAMBlockResource {
  return {
    apiVersion: TARTAN_API_VERSION,
    kind: KINDS.ipamBlock,
    metadata: { name: blockName(cidr) },
    spec: { cidr, pool, node },
  };
}

export function ipPool(name: string, cidr: string, blockSize: number): IPPoolResource {
  return {
    apiVersion: TARTAN_API_VERSION,
    kind: KINDS.ipPool,
    metadata: { name },
    spec: { cidr, blockSize },
  };
}
