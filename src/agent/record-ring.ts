/**
 * The last `capacity` records, oldest first, with live subscribers: what `tartan drops` shows
 * without --follow (the ring) and with it (the subscribers). Memory is bounded by `capacity`
 * whatever the drop rate.
 */
export class RecordRing<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private size = 0;
  private readonly subscribers = new Set<(item: T) => void>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`ring capacity must be ≥ 1, got ${capacity}`);
    this.items = new Array(capacity);
  }

  push(item: T): void {
    if (this.size < this.capacity) {
      this.items[(this.start + this.size) % this.capacity] = item;
      this.size++;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
    for (const s of this.subscribers) s(item);
  }

  /** Oldest first. */
  list(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.items[(this.start + i) % this.capacity] as T);
    return out;
  }

  get length(): number {
    return this.size;
  }

  /** Calls `fn` with every record pushed from now on; returns the unsubscribe. */
  subscribe(fn: (item: T) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}
