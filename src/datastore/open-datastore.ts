import type { Datastore } from "./datastore.ts";
import type { DatastoreConfig } from "./datastore-config.ts";

export type {
  DatastoreConfig,
  EtcdDatastoreConfig,
  EtcdTlsFiles,
  EtcdUser,
  KubernetesDatastoreConfig,
} from "./datastore-config.ts";

/**
 * Opens the configured Datastore. The adapters are imported on demand: the etcd client
 * (gRPC + protobuf) takes ~70 ms to load, which must never land on the CNI plugin's start-up,
 * and a `local` user should not pay for it either.
 */
export async function openDatastore(config: DatastoreConfig): Promise<Datastore> {
  switch (config.type) {
    case "local": {
      const { SqliteDatastore } = await import("./local/sqlite-datastore.ts");
      return SqliteDatastore.open(config.path);
    }
    case "etcd": {
      const { EtcdDatastore } = await import("./etcd/etcd-datastore.ts");
      return new EtcdDatastore(config);
    }
    case "kubernetes": {
      const { openKubernetesDatastore } = await import("./kubernetes/open-kubernetes-datastore.ts");
      return openKubernetesDatastore(config);
    }
  }
}
