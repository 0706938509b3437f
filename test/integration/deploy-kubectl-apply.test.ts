// The install manifest applied with the real kubectl (1.20 and the machine's newer one) into the
// stand-in API server (src/lab/kube-apiserver/, real etcd): one `kubectl apply -f
// deploy/tartan.yaml` creates every object, the CRDs become established and serve the samples,
// a second apply changes nothing, `tartan manifest` with other settings reconfigures only the
// ConfigMap, and `kubectl delete -f` uninstalls. Limits of the stand-in (no admission, no RBAC
// enforcement, no defaulting, no pruning by schema: src/lab/kube-apiserver/README.md) are why
// deploy-manifests.test.ts validates the objects against the schemas as well.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { renderManifest } from "../../src/cli/render-manifest.ts";
import { type EtcdServer, etcdSkipReason, startEtcd } from "../harness/etcd.ts";
import { type KubeApiServerFixture, startKubeApiServer } from "../harness/kube-apiserver.ts";
import { KUBECTLS, kubectlFor } from "../harness/kubectl.ts";

if (etcdSkipReason) console.warn(`deploy kubectl apply tests skipped: ${etcdSkipReason}`);

const ROOT = resolve(import.meta.dir, "../..");
const MANIFEST = join(ROOT, "deploy/tartan.yaml");
const SAMPLES = join(ROOT, "deploy/samples");
const T = 120_000;

/** "kind/name" of every object in a file, as kubectl names them in its output (lower-case kind). */
function objectsOf(path: string): { kind: string; name: string; namespace?: string; group: string }[] {
  return parseAllDocuments(readFileSync(path, "utf8"))
    .map((d) => d.toJS())
    .filter(Boolean)
    .map((o) => ({
      kind: o.kind,
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      group: o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "",
    }));
}
const MANIFEST_OBJECTS = objectsOf(MANIFEST);
const SAMPLE_OBJECTS = readdirSync(SAMPLES)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) => objectsOf(join(SAMPLES, f)));
const resource = (o: { kind: string; group: string }) =>
  `${o.kind.toLowerCase()}${o.group ? `.${o.group}` : ""}`;
/** How kubectl names an object in apply output ("kind.group/name") and in delete output. */
const ref = (o: { kind: string; name: string; group: string }) => `${resource(o)}/${o.name}`;
const deleted = (o: { kind: string; name: string; group: string }) => `${resource(o)} "${o.name}" deleted`;

let etcd: EtcdServer | undefined;
let kube: KubeApiServerFixture | undefined;
beforeAll(async () => {
  if (etcdSkipReason) return;
  etcd = await startEtcd();
  kube = await startKubeApiServer({ etcd });
}, T);
afterAll(async () => {
  await kube?.cleanup();
  await etcd?.cleanup();
});

for (const bin of KUBECTLS) {
  const skip = etcdSkipReason ?? bin.skipReason;
  if (bin.skipReason) console.warn(`${bin.name}: skipped: ${bin.skipReason}`);
  // One install, then its uninstall, per kubectl: each starts from an empty cluster.
  describe.skipIf(skip !== undefined)(`${bin.name}: install and uninstall`, () => {
    let k: ReturnType<typeof kubectlFor>;
    beforeAll(() => {
      k = kubectlFor(bin, kube!.kubeconfigPath);
    });

    test(
      "kubectl apply -f deploy/tartan.yaml creates every object; the CRDs get established",
      async () => {
        const out = await k.ok(["apply", "-f", MANIFEST]);
        for (const o of MANIFEST_OBJECTS) expect(out).toContain(`${ref(o)} created`);
        expect(out.trim().split("\n")).toHaveLength(MANIFEST_OBJECTS.length);
        const crds = MANIFEST_OBJECTS.filter((o) => o.kind === "CustomResourceDefinition");
        await k.ok([
          "wait",
          "--for",
          "condition=established",
          "--timeout",
          "30s",
          ...crds.map((c) => `crd/${c.name}`),
        ]);
        // The DaemonSet is stored as applied (the fields that make it a node agent).
        const ds = JSON.parse(
          await k.ok(["get", "daemonset", "tartan-node", "-n", "tartan-system", "-o", "json"]),
        );
        expect(ds.spec.template.spec.hostNetwork).toBe(true);
        expect(ds.spec.template.spec.priorityClassName).toBe("system-node-critical");
      },
      T,
    );

    test(
      "the samples apply against the CRDs and list by their short names",
      async () => {
        const out = await k.ok(["apply", "-f", SAMPLES]);
        for (const o of SAMPLE_OBJECTS) expect(out).toContain(`${ref(o)} created`);
        const pools = JSON.parse(await k.ok(["get", "ttpool", "-o", "json"]));
        expect(pools.items.map((p: { spec: { cidr: string } }) => p.spec.cidr).sort()).toEqual([
          "10.244.0.0/16",
          "fd44:7461:7274::/48",
        ]);
        expect(await k.ok(["get", "ipamblocks"])).toContain("10-244-3-64-26");
      },
      T,
    );

    test(
      "a second apply changes nothing; tartan manifest with other settings reconfigures the ConfigMap only",
      async () => {
        const again = await k.ok(["apply", "-f", MANIFEST]);
        for (const o of MANIFEST_OBJECTS) expect(again).toContain(`${ref(o)} unchanged`);
        const rendered = renderManifest({ backend: "host-gw", poolCidrs: ["10.50.0.0/16"], mtu: 1400 });
        const out = await k.ok(["apply", "-f", "-"], rendered);
        for (const o of MANIFEST_OBJECTS)
          expect(out).toContain(`${ref(o)} ${o.kind === "ConfigMap" ? "configured" : "unchanged"}`);
        const cm = JSON.parse(
          await k.ok(["get", "configmap", "tartan-config", "-n", "tartan-system", "-o", "json"]),
        );
        expect(cm.data["agent.yaml"]).toContain("backend: host-gw");
        expect(cm.data["agent.yaml"]).toContain("cidr: 10.50.0.0/16");
      },
      T,
    );

    test(
      "kubectl delete -f uninstalls: samples, then the install, nothing left",
      async () => {
        const samples = await k.ok(["delete", "-f", SAMPLES]);
        for (const o of SAMPLE_OBJECTS) expect(samples).toContain(deleted(o));
        // Deleting the namespace takes what lives in it along (at once here, in the background on
        // a real cluster): the later deletes of those objects may find them gone, which
        // --ignore-not-found accepts (docs/kubernetes.md gives the same command).
        const out = await k.ok(["delete", "--ignore-not-found", "-f", MANIFEST]);
        for (const o of MANIFEST_OBJECTS.filter((x) => !x.namespace)) expect(out).toContain(deleted(o));
        for (const o of MANIFEST_OBJECTS) {
          const args = ["get", resource(o), o.name];
          const r = await k.run(o.namespace ? [...args, "-n", o.namespace] : args);
          expect(`${ref(o)}: ${r.code} ${r.stderr}`).toMatch(/: 1 .*NotFound|not found/);
        }
      },
      T,
    );
  });
}
