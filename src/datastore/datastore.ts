import type { Resource } from "../model/resource.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent {
  type: WatchEventType;
  /** For DELETED: the object as it was last stored. */
  object: Resource;
  /** The datastore revision of this change. */
  revision: string;
}

export interface ListResult {
  items: Resource[];
  /** The revision the list is consistent at: watch from here to miss nothing. */
  revision: string;
}

export interface WatchHandle {
  close(): void;
}

/** Whether a node's pod network is up, as the cluster should see it. */
export interface NodeNetworkCondition {
  available: boolean;
  /** CamelCase cause: "TartanIsUp", "PodCIDRNotAssigned". */
  reason: string;
  message: string;
}

/**
 * The datastore port: list + watch + compare-and-swap writes over Kubernetes-shaped objects.
 * Adapters: local (embedded, single host), etcd; a Kubernetes API adapter fits the same shape
 * (resourceVersion = CAS token, list revision = list resourceVersion, watch from it).
 *
 * Errors are TartanErrors with codes: "datastore-conflict" (create of an existing object, update
 * or delete with a stale resourceVersion), "datastore-not-found", "datastore-unavailable"
 * (server down or unreachable), "datastore-invalid" (malformed object).
 */
/** How a watcher wants its events; adapters may give more than asked. */
export interface WatchOptions {
  /**
   * A DELETED event may carry only the object's identity (kind, name, namespace, the deletion's
   * revision; `spec` null) instead of the object as last stored. For watchers that know the object
   * already (the agent's mirrors): etcd then need not read every deleted key's previous value for
   * the watcher, which made a 1000-node removal's events reach a watcher over ~2 s on a loaded
   * 2-core machine.
   */
  deletedIdentityOnly?: boolean;
}

export interface Datastore {
  get(kind: string, name: string, namespace?: string): Promise<Resource | undefined>;
  list(kind: string, namespace?: string): Promise<ListResult>;
  /**
   * The same snapshot as list, handed over page by page as it is read: `onPage` gets each page's
   * objects while the adapter already fetches the next, and the result carries the revision
   * only. For a caller that processes what it lists (the agent's mirrors): the work overlaps the
   * datastore's, and a page's decoded objects need not all be alive at once. Optional: callers
   * fall back to list.
   */
  listPages?(
    kind: string,
    onPage: (items: readonly Resource[]) => void,
    namespace?: string,
  ): Promise<Pick<ListResult, "revision">>;
  /** Creates the object; fails with datastore-conflict when it exists (the race-free claim). */
  create(obj: Resource): Promise<Resource>;
  /** Replaces the object if its stored resourceVersion equals obj.metadata.resourceVersion. */
  update(obj: Resource): Promise<Resource>;
  /** Deletes; with resourceVersion only if it still matches. Deleting a missing object → datastore-not-found. */
  delete(kind: string, name: string, namespace?: string, resourceVersion?: string): Promise<void>;
  /**
   * Every change of the kind after `fromRevision`, in order. On a broken connection the adapter
   * retries and resumes; if the revision was compacted away it calls onError with
   * datastore-compacted, and the caller lists again.
   */
  watch(
    kind: string,
    fromRevision: string,
    onEvent: (e: WatchEvent) => void,
    onError?: (e: Error) => void,
    opts?: WatchOptions,
  ): WatchHandle;
  /**
   * Optional: publishes whether this node's pod network is up where the cluster looks for it
   * (Kubernetes: the Node condition NetworkUnavailable, which keeps pods off the node until it is
   * False). Adapters with no such place leave it out.
   */
  setNodeNetworkCondition?(nodeName: string, c: NodeNetworkCondition): Promise<void>;
  close(): Promise<void>;
}
