import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { datastoreContract } from "../contract/datastore-contract.ts";

datastoreContract("memory", async () => {
  const ds = new MemoryDatastore();
  return { ds, compact: (r) => ds.compact(r), cleanup: () => ds.close() };
});
