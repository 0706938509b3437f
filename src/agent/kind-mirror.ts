import type { Datastore, WatchEvent, WatchHandle } from "../datastore/datastore.ts";
import type { Resource } from "../model/resource.ts";
import { backoffMs } from "./backoff.ts";

export interface KindMirrorOptions {
  /** Called after the first list and after every change that matters (see `relevant`). */
  onChange: () => void;
  /** A list or watch failed; the mirror keeps its items and retries by itself. */
  onError: (e: unknown, phase: "list" | "watch") => void;
  /** Whether an update is worth an onChange; default: any change. */
  relevant?: (before: Resource | undefined, after: Resource | undefined) => boolean;
  /** Called with the key of every object added, changed or removed (before onChange). */
  onItem?: (key: string) => void;
  /**
   * Applied to every object on ingestion (list, watch, observe): keep only the fields the
   * mirror's readers use (watch events carry whole objects).
   */
  strip?: (o: Resource) => Resource;
  /** Timer hook (tests run retries without waiting). */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (t: unknown) => void;
}

/** The mirror's key: the name, or "<namespace>/<name>" for namespaced kinds (Pod, NetworkPolicy). */
export function mirrorKey(o: Resource): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

/**
 * A local copy of every object of one kind: list, then watch from the list's revision, so nothing
 * between the two is missed. When the watch fails (revision compacted, datastore unreachable past
 * the adapter's own retries) the mirror keeps what it has, since the kernel was programmed from it
 * and stays right for everything that did not change, and lists again with backoff until that
 * works. `synced` is true from the first successful list on.
 */
export class KindMirror<T extends Resource = Resource> {
  readonly items = new Map<string, T>();
  synced = false;
  /** True while the mirror is known to follow the datastore (false between a failure and the re-list). */
  live = false;
  private handle: WatchHandle | undefined;
  private generation = 0;
  private attempt = 0;
  private timer: unknown;
  private stopped = false;
  private readonly setT: (fn: () => void, ms: number) => unknown;
  private readonly clearT: (t: unknown) => void;

  constructor(
    private readonly ds: Datastore,
    readonly kind: string,
    private readonly opts: KindMirrorOptions,
  ) {
    this.setT = opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearT = opts.clearTimeout ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  }

  /** Lists and starts watching; resolves after the first attempt (failures retry in the background). */
  async start(): Promise<void> {
    await this.relist();
  }

  /** Records a write this agent made itself, before its watch event arrives. */
  observe(obj: T): void {
    const before = this.items.get(mirrorKey(obj));
    if (before && Number(before.metadata.resourceVersion) > Number(obj.metadata.resourceVersion)) return;
    this.items.set(mirrorKey(obj), this.ingest(obj));
    this.opts.onItem?.(mirrorKey(obj));
  }

  /** Records a delete this agent made itself (key: see mirrorKey). */
  forget(name: string): void {
    this.items.delete(name);
    this.opts.onItem?.(name);
  }

  private ingest(o: Resource): T {
    return (this.opts.strip ? this.opts.strip(o) : o) as T;
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.handle?.close();
    this.handle = undefined;
    if (this.timer !== undefined) this.clearT(this.timer);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    this.handle?.close();
    this.handle = undefined;
    let revision: string;
    try {
      const list = await this.ds.list(this.kind);
      if (gen !== this.generation) return;
      const before = new Map(this.items);
      this.items.clear();
      for (const o of list.items) this.items.set(mirrorKey(o), this.ingest(o));
      if (this.opts.onItem) {
        for (const k of before.keys()) if (!this.items.has(k)) this.opts.onItem(k);
        for (const k of this.items.keys()) this.opts.onItem(k);
      }
      revision = list.revision;
      const first = !this.synced;
      this.synced = true;
      this.live = true;
      this.attempt = 0;
      const changed =
        first ||
        before.size !== this.items.size ||
        [...this.items].some(([n, o]) => this.matters(before.get(n), o));
      if (changed) this.opts.onChange();
    } catch (e) {
      if (gen !== this.generation) return;
      this.live = false;
      this.opts.onError(e, "list");
      this.retryLater();
      return;
    }
    this.handle = this.ds.watch(
      this.kind,
      revision,
      (ev) => {
        if (gen === this.generation) this.onEvent(ev);
      },
      (e) => {
        if (gen !== this.generation) return;
        this.live = false;
        this.opts.onError(e, "watch");
        this.handle?.close();
        this.handle = undefined;
        this.retryLater();
      },
    );
  }

  private retryLater(): void {
    if (this.stopped) return;
    const ms = backoffMs(this.attempt++);
    this.timer = this.setT(() => {
      this.timer = undefined;
      void this.relist();
    }, ms);
  }

  private onEvent(ev: WatchEvent): void {
    const name = mirrorKey(ev.object);
    const before = this.items.get(name);
    if (ev.type === "DELETED") {
      if (!before) return;
      this.items.delete(name);
      this.opts.onItem?.(name);
      this.opts.onChange();
      return;
    }
    const after = this.ingest(ev.object);
    this.items.set(name, after);
    this.opts.onItem?.(name);
    if (this.matters(before, after)) this.opts.onChange();
  }

  private matters(before: T | undefined, after: T | undefined): boolean {
    return this.opts.relevant ? this.opts.relevant(before, after) : true;
  }
}
