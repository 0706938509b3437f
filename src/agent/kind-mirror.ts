import type { Datastore, WatchEvent, WatchHandle } from "../datastore/datastore.ts";
import type { FieldError } from "../model/field-errors.ts";
import type { Resource } from "../model/resource.ts";
import { storedObjectErrors } from "../model/validate-stored-object.ts";
import { backoffMs } from "./backoff.ts";

/** An object the mirror refused on ingestion: it is treated as absent until a valid version comes. */
export interface RejectedObject {
  kind: string;
  /** The mirror's key (see mirrorKey), exactly as stored: it may hold any character. */
  key: string;
  resourceVersion: string | undefined;
  errors: readonly FieldError[];
}

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
  /**
   * Called once per rejected object version (not on every re-list or apply): the object failed
   * validation on ingestion and is treated as absent (see KindMirror.rejected).
   */
  onRejected?: (r: RejectedObject) => void;
  /** Timer hook (tests run retries without waiting). */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (t: unknown) => void;
}

/** The mirror's key: the name, or "<namespace>/<name>" for namespaced kinds (Pod, NetworkPolicy). */
export function mirrorKey(o: Resource): string {
  // Objects are validated after they are keyed: a malformed one must still get a key.
  const m = (o as Partial<Resource> | null)?.metadata ?? { name: "" };
  const name = String(m.name ?? "");
  return m.namespace ? `${String(m.namespace)}/${name}` : name;
}

/**
 * A local copy of every object of one kind: list, then watch from the list's revision, so nothing
 * between the two is missed. When the watch fails (revision compacted, datastore unreachable past
 * the adapter's own retries) the mirror keeps what it has, since the kernel was programmed from it
 * and stays right for everything that did not change, and lists again with backoff until that
 * works. `synced` is true from the first successful list on.
 *
 * Every object is validated on ingestion (list, watch, observe) with the model's rules
 * (storedObjectErrors: the API server's for Kubernetes kinds, tartan's for its own): this is the
 * one place where datastore strings enter the agent, so nothing downstream (calc, the nft and
 * `ip -batch` renderers) sees a name, label, address or CIDR that did not pass. An object that
 * fails is kept out of `items` (treated as absent: a valid earlier version is dropped too, since
 * the datastore no longer holds it), listed in `rejected`, reported once per version through
 * onRejected, and blocks nothing else.
 */
export class KindMirror<T extends Resource = Resource> {
  readonly items = new Map<string, T>();
  /** Objects refused on ingestion, by key (see the class comment). */
  readonly rejected = new Map<string, RejectedObject>();
  synced = false;
  /** True while the mirror is known to follow the datastore (false between a failure and the re-list). */
  live = false;
  /** When `live` last turned true (Date.now()), for `tartan status`'s "in sync since". */
  liveSince: number | undefined;
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
    const key = mirrorKey(obj);
    const before = this.items.get(key);
    if (before && Number(before.metadata.resourceVersion) > Number(obj.metadata.resourceVersion)) return;
    const accepted = this.ingest(obj, key);
    if (accepted) this.items.set(key, accepted);
    else this.items.delete(key);
    this.opts.onItem?.(key);
  }

  /** Records a delete this agent made itself (key: see mirrorKey). */
  forget(name: string): void {
    this.items.delete(name);
    this.rejected.delete(name);
    this.opts.onItem?.(name);
  }

  /** The object as the mirror keeps it, or undefined when it is rejected (recorded in `rejected`). */
  private ingest(o: Resource, key: string): T | undefined {
    let kept: Resource;
    let errors: FieldError[];
    try {
      // Stripped first: only what the mirror's readers use is judged (a Pod's env or volumes
      // never reach the kernel and must not get it rejected); a shape strip cannot read is rejected.
      kept = this.opts.strip ? this.opts.strip(o) : o;
      errors = storedObjectErrors(kept);
    } catch (e) {
      kept = o;
      errors = [{ field: "", reason: `unreadable object: ${e instanceof Error ? e.message : String(e)}` }];
    }
    if (errors.length === 0) {
      this.rejected.delete(key);
      return kept as T;
    }
    const rv = (o as Partial<Resource> | null)?.metadata?.resourceVersion;
    const r: RejectedObject = { kind: this.kind, key, resourceVersion: rv, errors };
    const prev = this.rejected.get(key);
    this.rejected.set(key, r);
    if (!prev || prev.resourceVersion !== rv) this.opts.onRejected?.(r);
    return undefined;
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
      const listed = new Set<string>();
      const fresh = new Map<string, T>();
      const take = (items: readonly Resource[]) => {
        if (gen !== this.generation) return;
        for (const o of items) {
          const key = mirrorKey(o);
          listed.add(key);
          // `rejected` still holds the last list's entries: an unchanged version is not reported again.
          const accepted = this.ingest(o, key);
          if (accepted) fresh.set(key, accepted);
        }
      };
      // Page by page where the datastore can: each page is ingested while the next is read, and
      // only a page of whole decoded objects is alive at a time (at 10k Pods: ~30–40 ms and
      // ~10 MB of high-water mark less on a cold start; decision 0027).
      if (this.ds.listPages) revision = (await this.ds.listPages(this.kind, take)).revision;
      else {
        const list = await this.ds.list(this.kind);
        take(list.items);
        revision = list.revision;
      }
      if (gen !== this.generation) return;
      const before = new Map(this.items);
      this.items.clear();
      for (const [k, o] of fresh) this.items.set(k, o);
      fresh.clear();
      for (const k of [...this.rejected.keys()]) if (!listed.has(k)) this.rejected.delete(k);
      if (this.opts.onItem) {
        for (const k of before.keys()) if (!this.items.has(k)) this.opts.onItem(k);
        for (const k of this.items.keys()) this.opts.onItem(k);
      }
      const first = !this.synced;
      this.synced = true;
      if (!this.live) this.liveSince = Date.now();
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
      // A delete is applied by key (onEvent): the deleted object's last content is not needed.
      { deletedIdentityOnly: true },
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
      this.rejected.delete(name);
      if (!before) return;
      this.items.delete(name);
      this.opts.onItem?.(name);
      this.opts.onChange();
      return;
    }
    const after = this.ingest(ev.object, name);
    if (!after) {
      // Rejected: gone for the readers, like a delete (nothing to do when it was not there).
      if (!before) return;
      this.items.delete(name);
      this.opts.onItem?.(name);
      this.opts.onChange();
      return;
    }
    this.items.set(name, after);
    this.opts.onItem?.(name);
    if (this.matters(before, after)) this.opts.onChange();
  }

  private matters(before: T | undefined, after: T | undefined): boolean {
    return this.opts.relevant ? this.opts.relevant(before, after) : true;
  }
}
