// Runs inside the lab's fabric namespace (where the lab's etcd and stand-in API server listen),
// started by bench/convergence.ts --datastore kubernetes: for each line "NAMESPACE NAME NODE" on
// stdin it creates that Pod in the lab's datastore with the datastore code, as the scheduler's
// binding leaves it for kubelet (spec.nodeName set), and prints one JSON line {ok, ms} once the
// datastore answered. The Namespace is created first when it is new. With --kubeconfig the Pod
// goes through the Kubernetes API (the adapter); with the lab's etcd arguments straight into etcd
// (the agent then records the pod's IPs on that object at ADD, as it does on a kubelet's Pod),
// so both datastores are timed from the same event.
//
//   bun pod-writer.ts --kubeconfig FILE
//   bun pod-writer.ts --endpoint URL [--etcd-ca F --etcd-cert F --etcd-key F]
import type { Datastore } from "../../src/datastore/datastore.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { labEtcdConfig } from "../lab/lab-etcd.ts";

const argv = process.argv.slice(2);
const kubeconfig = argv.includes("--kubeconfig") ? argv[argv.indexOf("--kubeconfig") + 1] : undefined;
const now = () => performance.timeOrigin + performance.now();

async function ensureNamespace(ds: Datastore, name: string): Promise<void> {
  try {
    await ds.create({ apiVersion: "v1", kind: "Namespace", metadata: { name }, spec: {} });
  } catch (e) {
    if (!(e instanceof TartanError && e.code === "datastore-conflict")) throw e;
  }
}

async function main(): Promise<void> {
  const ds = await openDatastore(kubeconfig ? { type: "kubernetes", kubeconfig } : labEtcdConfig(argv));
  const namespaces = new Set<string>();
  let buf = "";
  const dec = new TextDecoder();
  try {
    for await (const chunk of Bun.stdin.stream()) {
      buf += dec.decode(chunk);
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const [ns, name, node] = buf.slice(0, nl).split(" ") as [string, string, string];
        buf = buf.slice(nl + 1);
        const t0 = now();
        try {
          if (!namespaces.has(ns)) {
            await ensureNamespace(ds, ns);
            namespaces.add(ns);
          }
          await ds.create({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name, namespace: ns, labels: { app: "bench" } },
            spec: { nodeName: node, containers: [{ name: "main", image: "none" }] },
          });
          console.log(JSON.stringify({ ok: true, ms: now() - t0 }));
        } catch (e) {
          console.log(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }));
        }
      }
    }
  } finally {
    await ds.close();
  }
}

main().catch((e) => {
  process.stderr.write(`pod-writer: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
  process.exit(1);
});
