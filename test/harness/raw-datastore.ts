// A memory datastore that can also store objects around its validation, as anyone with an etcd
// client can: the poisoned objects the agent's ingestion must refuse (names with newlines, labels
// with quotes, addresses that do not parse). Reads, watches and CAS are the memory store's own.
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { storeKey } from "../../src/datastore/store-key.ts";
import type { Resource } from "../../src/model/resource.ts";

interface MemoryInternals {
  objects: Map<string, Resource>;
  watchers: Set<{ closed: boolean; onError?: (e: Error) => void }>;
  write(type: "ADDED" | "MODIFIED", key: string, o: Resource): Resource;
}

export class RawDatastore extends MemoryDatastore {
  /** Stores `obj` as given (no validation, no defaulting): an ADDED or MODIFIED event follows. */
  putRaw(obj: Resource): Resource {
    const self = this as unknown as MemoryInternals;
    const key = storeKey(obj.kind, obj.metadata.name, obj.metadata.namespace);
    const copy = structuredClone(obj);
    delete copy.metadata.resourceVersion;
    return self.write(self.objects.has(key) ? "MODIFIED" : "ADDED", key, copy);
  }

  /** Ends every watch with an error (the datastore went away): the mirrors list again. */
  breakWatches(): void {
    const self = this as unknown as MemoryInternals;
    for (const w of [...self.watchers]) {
      w.closed = true;
      self.watchers.delete(w);
      w.onError?.(new Error("watch broken by the test"));
    }
  }
}
