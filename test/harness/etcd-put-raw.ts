// Writes objects straight into a lab's etcd, around every validation tartan has (`tartan apply`,
// the datastore's prepareWrite), as anyone who reaches etcd can: the poisoned objects the
// agent's ingestion must refuse. Runs inside the lab's fabric namespace (where etcd listens):
//   ip netns exec tl-<lab>-fabric bun test/harness/etcd-put-raw.ts --endpoint URL \
//     [--etcd-ca F --etcd-cert F --etcd-key F] < objects.json
// (the lab's etcd takes only TLS clients with the lab's certificate, decision 0013)
// with the datastore's own key layout (<prefix>/<storeKey>), values as the adapter stores them
// (the object's JSON without resourceVersion). Prints the etcd revision of the write.
import { labEtcd3, labEtcdConfig } from "../../bench/lab/lab-etcd.ts";
import { storeKey } from "../../src/datastore/store-key.ts";
import type { Resource } from "../../src/model/resource.ts";

const objects = JSON.parse(await Bun.stdin.text()) as Resource[];
const etcd = labEtcd3(labEtcdConfig(process.argv.slice(2)));
try {
  const res = await etcd.kv.txn({
    compare: [],
    success: objects.map((o) => {
      const { resourceVersion: _, ...metadata } = o.metadata;
      const key = `/tartan/${storeKey(o.kind, o.metadata.name, o.metadata.namespace)}`;
      return {
        request_put: { key: Buffer.from(key), value: Buffer.from(JSON.stringify({ ...o, metadata })) },
      };
    }),
  });
  process.stdout.write(`${res.header.revision}\n`);
} finally {
  etcd.close();
}
