import type { Resource } from "../model/resource.ts";
import type { Datastore, ListResult, WatchEvent, WatchEventType, WatchHandle } from "./datastore.ts";
import { compactedError, datastoreError } from "./datastore-error.ts";
import { prepareWrite } from "./prepare-write.ts";
import { storeKey } from "./store-key.ts";
import { checkKind, checkName } from "./validate-resource.ts";

interface Watcher {
  kind: string;
  last: number;
  onEvent: (e: WatchEvent) => void;
  onError?: (e: Error) => void;
  closed: boolean;
  scheduled: boolean;
}

/**
 * The Datastore in memory, for unit tests of the agent and the CLI: one global revision counter
 * (like etcd), an event log so watches can start from any revision still held, and asynchronous
 * in-order delivery (a watcher never runs inside the writer's call, as with a real store).
 */
export class MemoryDatastore implements Datastore {
  private revision = 0;
  private compacted = 0;
  private readonly objects = new Map<string, Resource>();
  private readonly log: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();

  async get(kind: string, name: string, namespace?: string): Promise<Resource | undefined> {
    checkKind(kind);
    checkName(name, namespace || undefined);
    const o = this.objects.get(storeKey(kind, name, namespace));
    return o && structuredClone(o);
  }

  async list(kind: string, namespace?: string): Promise<ListResult> {
    checkKind(kind);
    const prefix = namespace ? storeKey(kind, "", namespace) : `${kind}/`;
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    return { items: keys.map((k) => structuredClone(this.objects.get(k)!)), revision: String(this.revision) };
  }

  async create(obj: Resource): Promise<Resource> {
    const o = prepareWrite(obj, "create");
    const key = storeKey(o.kind, o.metadata.name, o.metadata.namespace);
    if (this.objects.has(key)) throw datastoreError("datastore-conflict", `${key} already exists`);
    return this.write("ADDED", key, o);
  }

  async update(obj: Resource): Promise<Resource> {
    const o = prepareWrite(obj, "update");
    const key = storeKey(o.kind, o.metadata.name, o.metadata.namespace);
    const cur = this.objects.get(key);
    if (!cur) throw datastoreError("datastore-not-found", `${key} does not exist`);
    if (cur.metadata.resourceVersion !== o.metadata.resourceVersion) {
      throw datastoreError(
        "datastore-conflict",
        `${key} is at version ${cur.metadata.resourceVersion}, not ${o.metadata.resourceVersion}`,
      );
    }
    return this.write("MODIFIED", key, o);
  }

  async delete(kind: string, name: string, namespace?: string, resourceVersion?: string): Promise<void> {
    checkKind(kind);
    checkName(name, namespace || undefined);
    const key = storeKey(kind, name, namespace);
    const cur = this.objects.get(key);
    if (!cur) throw datastoreError("datastore-not-found", `${key} does not exist`);
    if (resourceVersion !== undefined && cur.metadata.resourceVersion !== resourceVersion) {
      throw datastoreError(
        "datastore-conflict",
        `${key} is at version ${cur.metadata.resourceVersion}, not ${resourceVersion}`,
      );
    }
    this.objects.delete(key);
    this.write("DELETED", key, cur);
  }

  watch(
    kind: string,
    fromRevision: string,
    onEvent: (e: WatchEvent) => void,
    onError?: (e: Error) => void,
  ): WatchHandle {
    checkKind(kind);
    const w: Watcher = {
      kind,
      last: Number(fromRevision),
      onEvent,
      onError,
      closed: false,
      scheduled: false,
    };
    this.watchers.add(w);
    this.schedule(w);
    return {
      close: () => {
        w.closed = true;
        this.watchers.delete(w);
      },
    };
  }

  /** Forgets the events up to and including `revision`; watches from before it get datastore-compacted. */
  async compact(revision: string): Promise<void> {
    const r = Math.min(Number(revision), this.revision);
    this.compacted = Math.max(this.compacted, r);
    while (this.log.length > 0 && Number(this.log[0]!.revision) <= this.compacted) this.log.shift();
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.closed = true;
    this.watchers.clear();
  }

  private write(type: WatchEventType, key: string, o: Resource): Resource {
    this.revision++;
    const stored = structuredClone(o);
    stored.metadata.resourceVersion = String(this.revision);
    if (type !== "DELETED") this.objects.set(key, stored);
    this.log.push({ type, object: stored, revision: String(this.revision) });
    for (const w of this.watchers) this.schedule(w);
    return structuredClone(stored);
  }

  private schedule(w: Watcher): void {
    if (w.scheduled || w.closed) return;
    w.scheduled = true;
    // A macrotask, not a microtask: the writer's await resumes first, as with a real store.
    setTimeout(() => this.pump(w), 0);
  }

  private pump(w: Watcher): void {
    w.scheduled = false;
    if (w.closed) return;
    if (w.last < this.compacted) {
      w.closed = true;
      this.watchers.delete(w);
      w.onError?.(compactedError(w.last, this.compacted));
      return;
    }
    for (const e of this.log) {
      if (w.closed) return;
      const rev = Number(e.revision);
      if (rev <= w.last) continue;
      w.last = rev;
      if (e.object.kind === w.kind) w.onEvent(structuredClone(e));
    }
  }
}
