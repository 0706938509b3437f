import type { Resource } from "../../model/resource.ts";
import type {
  Datastore,
  ListResult,
  NodeNetworkCondition,
  WatchEvent,
  WatchEventType,
  WatchHandle,
} from "../datastore.ts";
import { datastoreError } from "../datastore-error.ts";
import { prepareWrite } from "../prepare-write.ts";
import { storeKey } from "../store-key.ts";
import { checkKind, checkName } from "../validate-resource.ts";
import type { KubeClient, RawWatchEvent } from "./kube-client.ts";
import { kubeDatastoreError, missingResourceError } from "./kube-datastore-error.ts";
import { type KubeResource, kubeResource, resourceName, resourcePath } from "./kube-resources.ts";
import { watchStatusError } from "./kube-status-error.ts";
import { type CoordinationLease, coordinationLeaseOf, tartanLeaseOf } from "./lease-translation.ts";
import {
  type CoreNode,
  coreNodeFor,
  isTartanNode,
  NODE_ANNOTATIONS,
  nodeAnnotationsOf,
  tartanNodeOf,
} from "./node-annotations.ts";

export interface KubernetesDatastoreOptions {
  client: KubeClient;
  /** Namespace of the namespaced objects tartan keeps cluster-wide (the Lease). */
  namespace: string;
  /** Items per list page (default 500, kubectl's). */
  pageSize?: number;
  /** How long a watch keeps reconnecting before it reports datastore-unavailable (default 30 s). */
  watchGiveUpMs?: number;
  /** Server-side watch timeout in seconds (default random 300–600, client-go's spread). */
  watchTimeoutSeconds?: () => number;
  /** Delay before reconnect attempt n (default jittered 100 ms doubling to 5 s). */
  backoffMs?: (attempt: number) => number;
  /**
   * A watch connection silent this long past its server timeout is cut and resumed (a peer that
   * vanished without closing the connection would otherwise stall the watch for ever). Default 30 s.
   */
  watchSilenceGraceMs?: number;
}

interface KubeList {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: Record<string, unknown>[];
}

const jittered = (attempt: number): number => {
  const cap = Math.min(5000, 100 * 2 ** Math.min(attempt, 10));
  return Math.max(50, Math.floor(Math.random() * cap));
};

const MERGE_PATCH = "application/merge-patch+json";

/** What one watch remembers of Nodes, to turn "annotations removed" into a DELETED of the last view. */
interface NodeWatchState {
  visible: Map<string, Resource>;
  hidden: Set<string>;
}

/**
 * The `kubernetes` Datastore: tartan's kinds over the Kubernetes API (decision 0015). Pods,
 * Namespaces and NetworkPolicies are the cluster's own objects; IPPool and IPAMBlock are
 * custom resources of tartan.dev/v1alpha1; tartan's Node is a set of annotations on the core Node
 * (node-annotations.ts); tartan's Lease a coordination.k8s.io Lease in `namespace`.
 * resourceVersion is the CAS token (compared for equality only, never parsed), create = POST
 * (409 AlreadyExists → datastore-conflict: the block claim), update = PUT with the version read
 * (409 Conflict → datastore-conflict), delete with a resourceVersion precondition. Lists are
 * paged (limit + continue, one snapshot); watches ask for bookmarks, resume from the last version
 * seen on any stream end with jittered backoff, and report 410 as datastore-compacted (the
 * caller lists again with no version and diffs, as KindMirror does).
 */
export class KubernetesDatastore implements Datastore {
  private readonly client: KubeClient;
  private readonly pageSize: number;
  private readonly watches = new Set<AbortController>();

  constructor(private readonly o: KubernetesDatastoreOptions) {
    this.client = o.client;
    this.pageSize = o.pageSize ?? 500;
  }

  async get(kind: string, name: string, namespace?: string): Promise<Resource | undefined> {
    checkKind(kind);
    checkName(name, namespace || undefined);
    const r = kubeResource(kind);
    const ns = this.namespaceOf(r, namespace);
    if (r.namespaced && !ns) return undefined;
    try {
      const obj = await this.client.request<Record<string, unknown>>("GET", resourcePath(r, ns, name), {
        what: `get ${kind}/${name}`,
      });
      return this.fromApi(r, obj);
    } catch (e) {
      const err = kubeDatastoreError(e, `get ${kind}/${name}`);
      if (err.code === "datastore-not-found") return undefined;
      throw err;
    }
  }

  async list(kind: string, namespace?: string): Promise<ListResult> {
    checkKind(kind);
    if (namespace) checkName("x", namespace);
    const r = kubeResource(kind);
    const path = resourcePath(r, this.namespaceOf(r, namespace));
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.listOnce(r, path);
      } catch (e) {
        const err =
          missingResourceError(e, `list ${kind}`, resourceName(r)) ?? kubeDatastoreError(e, `list ${kind}`);
        // A continue token expired between pages (410): the whole list again, from the top.
        if (err.code === "datastore-compacted" && attempt < 2) continue;
        throw err;
      }
    }
  }

  private async listOnce(r: KubeResource, path: string): Promise<ListResult> {
    const items: Resource[] = [];
    let revision: string | undefined;
    let cont: string | undefined;
    do {
      const page = await this.client.request<KubeList>("GET", path, {
        query: { limit: String(this.pageSize), continue: cont },
        what: `list ${r.kind}`,
      });
      revision ??= page.metadata?.resourceVersion;
      for (const raw of page.items ?? []) {
        const o = this.fromApi(r, raw);
        if (o) items.push(o);
      }
      cont = page.metadata?.continue || undefined;
    } while (cont);
    // Every adapter lists in store-key order (datastore/store-key.ts).
    const key = (o: Resource) => storeKey(r.kind, o.metadata.name, o.metadata.namespace);
    items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    if (revision === undefined)
      throw datastoreError("datastore-unavailable", `list ${r.kind}: the answer has no resourceVersion`);
    return { items, revision };
  }

  async create(obj: Resource): Promise<Resource> {
    const o = prepareWrite(obj, "create");
    const r = kubeResource(o.kind);
    const what = `create ${o.kind}/${o.metadata.name}`;
    try {
      if (r.kind === "Node") return await this.createNode(o);
      const ns = this.namespaceOf(r, o.metadata.namespace);
      if (r.namespaced && !ns)
        throw datastoreError("datastore-invalid", `${what}: a ${o.kind} needs metadata.namespace`);
      const body = r.fixedNamespace ? coordinationLeaseOf(o, ns!) : this.toApi(r, o, "create");
      const created = await this.client.request<Record<string, unknown>>("POST", resourcePath(r, ns), {
        body,
        what,
      });
      return this.mustView(r, created);
    } catch (e) {
      // A 404 on the Lease's collection is a missing namespace, not a missing resource.
      const missing = r.fixedNamespace ? undefined : missingResourceError(e, what, resourceName(r));
      throw missing ?? kubeDatastoreError(e, what);
    }
  }

  async update(obj: Resource): Promise<Resource> {
    const o = prepareWrite(obj, "update");
    const r = kubeResource(o.kind);
    const what = `update ${o.kind}/${o.metadata.name}`;
    try {
      if (r.kind === "Node") {
        return this.mustView(
          r,
          await this.patchNode(
            o.metadata.name,
            o.metadata.resourceVersion!,
            nodeAnnotationsOf(o),
            what,
            o.metadata.labels,
          ),
        );
      }
      const ns = this.namespaceOf(r, o.metadata.namespace);
      if (r.namespaced && !ns)
        throw datastoreError("datastore-invalid", `${what}: a ${o.kind} needs metadata.namespace`);
      const body = r.fixedNamespace ? coordinationLeaseOf(o, ns!) : this.toApi(r, o, "update");
      const put = await this.client.request<Record<string, unknown>>(
        "PUT",
        resourcePath(r, ns, o.metadata.name),
        {
          body,
          what,
        },
      );
      return this.mustView(r, put);
    } catch (e) {
      throw kubeDatastoreError(e, what);
    }
  }

  async delete(kind: string, name: string, namespace?: string, resourceVersion?: string): Promise<void> {
    checkKind(kind);
    checkName(name, namespace || undefined);
    const r = kubeResource(kind);
    const what = `delete ${kind}/${name}`;
    const ns = this.namespaceOf(r, namespace);
    try {
      if (r.namespaced && !ns) throw datastoreError("datastore-not-found", `${what}: no namespace given`);
      if (r.kind === "Node") {
        const cur = await this.client.request<CoreNode>("GET", resourcePath(r, undefined, name), { what });
        if (!isTartanNode(cur))
          throw datastoreError("datastore-not-found", `${what}: no tartan node registered there`);
        // A Node kubelet made stays: tartan only takes its own annotations off it.
        if (cur.metadata.annotations?.[NODE_ANNOTATIONS.createdByTartan] !== "true") {
          const off = { ...nodeAnnotationsOf(undefined), [NODE_ANNOTATIONS.createdByTartan]: null };
          await this.patchNode(name, resourceVersion ?? cur.metadata.resourceVersion!, off, what);
          return;
        }
      }
      await this.client.request("DELETE", resourcePath(r, ns, name), {
        what,
        body: {
          apiVersion: "v1",
          kind: "DeleteOptions",
          ...(resourceVersion !== undefined ? { preconditions: { resourceVersion } } : {}),
        },
      });
    } catch (e) {
      throw kubeDatastoreError(e, what);
    }
  }

  watch(
    kind: string,
    fromRevision: string,
    onEvent: (e: WatchEvent) => void,
    onError?: (e: Error) => void,
  ): WatchHandle {
    checkKind(kind);
    const r = kubeResource(kind);
    const path = resourcePath(r, this.namespaceOf(r, undefined));
    const ctl = new AbortController();
    this.watches.add(ctl);
    let last = fromRevision;
    const nodes: NodeWatchState = { visible: new Map(), hidden: new Set() };
    const giveUpMs = this.o.watchGiveUpMs ?? 30_000;
    const backoff = this.o.backoffMs ?? jittered;
    const stop = () => {
      ctl.abort();
      this.watches.delete(ctl);
    };
    const fail = (e: Error) => {
      if (ctl.signal.aborted) return;
      stop();
      onError?.(e);
    };
    const run = async () => {
      let failures = 0;
      let failingSince: number | undefined;
      while (!ctl.signal.aborted) {
        let events = 0;
        const timeoutSeconds = this.o.watchTimeoutSeconds?.() ?? 300 + Math.floor(Math.random() * 300);
        // This connection only: cut when silent past the server's timeout, or when the watch closes.
        const conn = new AbortController();
        const cut = () => conn.abort();
        ctl.signal.addEventListener("abort", cut, { once: true });
        const silenceMs = timeoutSeconds * 1000 + (this.o.watchSilenceGraceMs ?? 30_000);
        let silence = setTimeout(cut, silenceMs);
        try {
          const query = {
            resourceVersion: last,
            allowWatchBookmarks: "true",
            timeoutSeconds: String(timeoutSeconds),
          };
          for await (const ev of this.client.watch(path, query, conn.signal)) {
            if (ctl.signal.aborted) return;
            clearTimeout(silence);
            silence = setTimeout(cut, silenceMs);
            events++;
            failures = 0;
            failingSince = undefined;
            if (ev.type === "ERROR") throw watchStatusError(ev.object, `watch of ${kind}`);
            const rv = (ev.object?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
            if (ev.type === "BOOKMARK") {
              if (rv) last = rv;
              continue;
            }
            const out = this.watchEvent(r, ev, nodes);
            if (rv) last = rv;
            if (out) onEvent(out);
          }
          if (ctl.signal.aborted) return;
          // A clean end (the server's timeout, or cut when silent): reconnect at once, unless it keeps ending empty.
          if (events > 0) continue;
          failures++;
        } catch (e) {
          if (ctl.signal.aborted) return;
          const err =
            missingResourceError(e, `watch of ${kind}`, resourceName(r)) ??
            kubeDatastoreError(e, `watch of ${kind}`);
          if (err.code !== "datastore-unavailable") return fail(err);
          failures++;
          failingSince ??= Date.now();
          if (Date.now() - failingSince >= giveUpMs) return fail(err);
        } finally {
          clearTimeout(silence);
          ctl.signal.removeEventListener("abort", cut);
        }
        // The listener goes with the wait: a watch reconnecting for days must not pile them up.
        await new Promise<void>((res) => {
          const done = () => {
            clearTimeout(t);
            ctl.signal.removeEventListener("abort", done);
            res();
          };
          const t = setTimeout(done, backoff(failures - 1));
          ctl.signal.addEventListener("abort", done, { once: true });
        });
      }
    };
    void run();
    return { close: stop };
  }

  /**
   * The Node condition NetworkUnavailable (False when the network is up), by a strategic merge
   * patch of nodes/NAME/status: the API server merges conditions by type, so kubelet's stay.
   */
  async setNodeNetworkCondition(nodeName: string, c: NodeNetworkCondition): Promise<void> {
    checkName(nodeName);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const condition = {
      type: "NetworkUnavailable",
      status: c.available ? "False" : "True",
      reason: c.reason,
      message: c.message,
      lastTransitionTime: now,
      lastHeartbeatTime: now,
    };
    const what = `set the NetworkUnavailable condition of Node/${nodeName}`;
    try {
      await this.client.request(
        "PATCH",
        `${resourcePath(kubeResource("Node"), undefined, nodeName)}/status`,
        {
          body: { status: { conditions: [condition] } },
          contentType: "application/strategic-merge-patch+json",
          what,
        },
      );
    } catch (e) {
      throw kubeDatastoreError(e, what);
    }
  }

  async close(): Promise<void> {
    for (const c of [...this.watches]) c.abort();
    this.watches.clear();
  }

  /** The namespace in the API: the datastore's own for the Lease, the caller's otherwise. */
  private namespaceOf(r: KubeResource, namespace: string | undefined): string | undefined {
    if (r.fixedNamespace) return this.o.namespace;
    return r.namespaced ? namespace || undefined : undefined;
  }

  private async createNode(o: Resource): Promise<Resource> {
    const r = kubeResource("Node");
    const what = `create Node/${o.metadata.name}`;
    let cur: CoreNode | undefined;
    try {
      cur = await this.client.request<CoreNode>("GET", resourcePath(r, undefined, o.metadata.name), { what });
    } catch (e) {
      if (kubeDatastoreError(e, what).code !== "datastore-not-found") throw e;
    }
    if (!cur) {
      return this.mustView(
        r,
        await this.client.request("POST", resourcePath(r, undefined), { body: coreNodeFor(o), what }),
      );
    }
    if (isTartanNode(cur))
      throw datastoreError("datastore-conflict", `${what}: Node ${o.metadata.name} is already registered`);
    // kubelet's Node: tartan's registration is its annotations, added at the version read.
    const add = Object.fromEntries(Object.entries(nodeAnnotationsOf(o)).filter(([, v]) => v !== null));
    return this.mustView(
      r,
      await this.patchNode(o.metadata.name, cur.metadata.resourceVersion!, add, what, o.metadata.labels),
    );
  }

  /**
   * A merge patch of nodes/NAME/status: tartan's annotations, compare-and-swap on `resourceVersion`.
   * Labels (the agent's `bgp.labels`) are added or changed, never removed: the Node's labels are
   * the cluster's.
   */
  private patchNode(
    name: string,
    resourceVersion: string,
    annotations: Record<string, string | null>,
    what: string,
    labels?: Record<string, string>,
  ) {
    return this.client.request<Record<string, unknown>>(
      "PATCH",
      `${resourcePath(kubeResource("Node"), undefined, name)}/status`,
      {
        body: {
          metadata: {
            resourceVersion,
            annotations,
            ...(labels && Object.keys(labels).length ? { labels } : {}),
          },
        },
        contentType: MERGE_PATCH,
        what,
      },
    );
  }

  /** What is sent: the object as the caller wrote it, minus what the server owns. */
  private toApi(r: KubeResource, o: Resource, mode: "create" | "update"): Record<string, unknown> {
    const { uid: _u, creationTimestamp: _c, ...metadata } = o.metadata;
    if (mode === "update")
      return { ...o, apiVersion: r.apiVersion, kind: r.kind, metadata: { ...metadata, uid: o.metadata.uid } };
    return { ...o, apiVersion: r.apiVersion, kind: r.kind, metadata };
  }

  private mustView(r: KubeResource, raw: unknown): Resource {
    const v = this.fromApi(r, raw as Record<string, unknown>);
    if (!v)
      throw datastoreError("datastore-unavailable", `the API server answered a ${r.kind} tartan cannot read`);
    return v;
  }

  /** tartan's view of an API object (undefined: not tartan's to see, e.g. a Node without an agent). */
  private fromApi(r: KubeResource, raw: Record<string, unknown>): Resource | undefined {
    if (!raw || typeof raw !== "object" || typeof raw.metadata !== "object" || raw.metadata === null)
      return undefined;
    if (r.kind === "Node")
      return isTartanNode(raw as unknown as CoreNode) ? tartanNodeOf(raw as unknown as CoreNode) : undefined;
    if (r.fixedNamespace) return tartanLeaseOf(raw as unknown as CoordinationLease);
    // List items carry no apiVersion/kind; server bookkeeping tartan never reads is dropped.
    const { managedFields: _m, selfLink: _s, ...metadata } = raw.metadata as Record<string, unknown>;
    return {
      ...(raw as unknown as Resource),
      apiVersion: r.apiVersion,
      kind: r.kind,
      metadata: metadata as unknown as Resource["metadata"],
      spec: raw.spec ?? {},
    };
  }

  private watchEvent(r: KubeResource, ev: RawWatchEvent, nodes: NodeWatchState): WatchEvent | undefined {
    const type = ev.type as WatchEventType;
    if (r.kind !== "Node") {
      const object = this.fromApi(r, ev.object);
      return object ? { type, object, revision: object.metadata.resourceVersion ?? "" } : undefined;
    }
    const core = ev.object as unknown as CoreNode;
    const name = core.metadata?.name;
    const rv = core.metadata?.resourceVersion ?? "";
    if (isTartanNode(core)) {
      const object = tartanNodeOf(core);
      nodes.hidden.delete(name);
      if (type === "DELETED") nodes.visible.delete(name);
      else nodes.visible.set(name, object);
      return { type, object, revision: rv };
    }
    // Not (or no longer) carrying an agent's registration: gone for tartan, said once.
    if (nodes.hidden.has(name)) return undefined;
    nodes.hidden.add(name);
    const prev = nodes.visible.get(name);
    nodes.visible.delete(name);
    if (type === "ADDED" && !prev) return undefined;
    const last = prev ?? tartanNodeOf(core);
    return {
      type: "DELETED",
      object: { ...last, metadata: { ...last.metadata, resourceVersion: rv } },
      revision: rv,
    };
  }
}
