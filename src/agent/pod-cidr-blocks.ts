import type {
  Datastore,
  ListResult,
  NodeNetworkCondition,
  WatchEvent,
  WatchHandle,
} from "../datastore/datastore.ts";
import { datastoreError } from "../datastore/datastore-error.ts";
import { blockName, type IPAMBlockResource, KINDS, type NodeResource } from "../model/cluster-resources.ts";
import { type Resource, TARTAN_API_VERSION } from "../model/resource.ts";

/** The pool name of the blocks node-podcidr mode derives from Nodes. */
export const POD_CIDR_POOL = "node-podcidr";

/** One node's pod CIDRs as the IPAMBlocks the rest of the agent understands. */
export function podCidrBlocks(n: NodeResource): IPAMBlockResource[] {
  return (n.spec?.podCIDRs ?? []).map((cidr) => ({
    apiVersion: TARTAN_API_VERSION,
    kind: KINDS.ipamBlock,
    metadata: {
      name: blockName(cidr),
      ...(n.metadata.resourceVersion !== undefined ? { resourceVersion: n.metadata.resourceVersion } : {}),
    },
    spec: { cidr, pool: POD_CIDR_POOL, node: n.metadata.name },
  }));
}

const cidrsOf = (n: Resource | undefined): string[] => (n as NodeResource | undefined)?.spec?.podCIDRs ?? [];

/**
 * `ipam.mode: node-podcidr` (Flannel's model, decision 0015): the cluster's controller manager
 * gives every Node its spec.podCIDRs and nobody claims blocks. This view of the datastore
 * answers IPAMBlock lists and watches from the Nodes (one block per pod CIDR, owned by its
 * node), so the routing manager, the node's local block list and the plugin work unchanged;
 * IPAMBlock writes are refused (nothing may claim a block in this mode). Every other kind passes
 * through.
 */
export class PodCidrBlocks implements Datastore {
  /** Each node's CIDRs at the revision of the last IPAMBlock list: where a watch from it starts. */
  private lastList: { revision: string; cidrs: Map<string, string[]> } | undefined;

  constructor(private readonly ds: Datastore) {
    if (ds.setNodeNetworkCondition) {
      this.setNodeNetworkCondition = (name: string, c: NodeNetworkCondition) =>
        ds.setNodeNetworkCondition!(name, c);
    }
  }

  setNodeNetworkCondition?: (nodeName: string, c: NodeNetworkCondition) => Promise<void>;

  async get(kind: string, name: string, namespace?: string): Promise<Resource | undefined> {
    if (kind !== KINDS.ipamBlock) return this.ds.get(kind, name, namespace);
    return (await this.list(kind)).items.find((b) => b.metadata.name === name);
  }

  async list(kind: string, namespace?: string): Promise<ListResult> {
    if (kind !== KINDS.ipamBlock) return this.ds.list(kind, namespace);
    const nodes = await this.ds.list(KINDS.node);
    const cidrs = new Map<string, string[]>();
    const items: Resource[] = [];
    for (const n of nodes.items as NodeResource[]) {
      cidrs.set(n.metadata.name, cidrsOf(n));
      items.push(...podCidrBlocks(n));
    }
    this.lastList = { revision: nodes.revision, cidrs };
    items.sort((a, b) =>
      a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0,
    );
    return { items, revision: nodes.revision };
  }

  create(obj: Resource): Promise<Resource> {
    if (obj?.kind === KINDS.ipamBlock) return Promise.reject(refused("claim"));
    return this.ds.create(obj);
  }

  update(obj: Resource): Promise<Resource> {
    if (obj?.kind === KINDS.ipamBlock) return Promise.reject(refused("change"));
    return this.ds.update(obj);
  }

  delete(kind: string, name: string, namespace?: string, resourceVersion?: string): Promise<void> {
    if (kind === KINDS.ipamBlock) return Promise.reject(refused("release"));
    return this.ds.delete(kind, name, namespace, resourceVersion);
  }

  watch(
    kind: string,
    fromRevision: string,
    onEvent: (e: WatchEvent) => void,
    onError?: (e: Error) => void,
  ): WatchHandle {
    if (kind !== KINDS.ipamBlock) return this.ds.watch(kind, fromRevision, onEvent, onError);
    const known = new Map(this.lastList?.revision === fromRevision ? this.lastList.cidrs : []);
    return this.ds.watch(
      KINDS.node,
      fromRevision,
      (e) => {
        const node = e.object as NodeResource;
        const name = node.metadata.name;
        const before = known.get(name) ?? [];
        const after = e.type === "DELETED" ? [] : cidrsOf(node);
        if (after.length) known.set(name, after);
        else known.delete(name);
        const blocks = podCidrBlocks({ ...node, spec: { ...node.spec, podCIDRs: after } });
        for (const cidr of before.filter((c) => !after.includes(c))) {
          const [gone] = podCidrBlocks({ ...node, spec: { ...node.spec, podCIDRs: [cidr] } });
          onEvent({ type: "DELETED", object: gone!, revision: e.revision });
        }
        for (const b of blocks) {
          if (before.includes(b.spec.cidr) && e.type !== "ADDED") continue;
          onEvent({
            type: before.includes(b.spec.cidr) ? "MODIFIED" : "ADDED",
            object: b,
            revision: e.revision,
          });
        }
      },
      onError,
    );
  }

  close(): Promise<void> {
    return this.ds.close();
  }
}

function refused(what: string) {
  return datastoreError(
    "datastore-invalid",
    `ipam.mode node-podcidr: the agent does not ${what} IPAMBlocks (pod CIDRs come from the Nodes' spec.podCIDRs)`,
  );
}
