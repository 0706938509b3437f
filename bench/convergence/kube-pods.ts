// Runs inside the lab's fabric namespace (where the lab's stand-in API server listens), started by
// bench/convergence.ts --datastore kubernetes: for each line "NAMESPACE NAME NODE" on stdin it
// creates that Pod through the Kubernetes API with the datastore adapter, as the scheduler's
// binding leaves it for kubelet (spec.nodeName set), and prints one JSON line {ok, ms} once the
// API server answered. The Namespace is created first when it is new.
//
//   bun kube-pods.ts --kubeconfig FILE
import type { Datastore } from "../../src/datastore/datastore.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";

const argv = process.argv.slice(2);
const kubeconfig = argv[argv.indexOf("--kubeconfig") + 1];
if (!argv.includes("--kubeconfig") || !kubeconfig) throw new Error("--kubeconfig FILE is required");
const now = () => performance.timeOrigin + performance.now();

async function ensureNamespace(ds: Datastore, name: string): Promise<void> {
  try {
    await ds.create({ apiVersion: "v1", kind: "Namespace", metadata: { name }, spec: {} });
  } catch (e) {
    if (!(e instanceof TartanError && e.code === "datastore-conflict")) throw e;
  }
}

async function main(): Promise<void> {
  const ds = await openDatastore({ type: "kubernetes", kubeconfig });
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
  process.stderr.write(`kube-pods: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
  process.exit(1);
});
