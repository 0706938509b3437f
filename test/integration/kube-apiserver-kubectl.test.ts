// The lab's stand-in Kubernetes API server (src/lab/kube-apiserver/) driven by the real kubectl,
// 1.20 and the machine's newer one: apply (CRDs and built-ins, twice), get -o json round trips,
// get --watch sees a label change, label, patch (strategic for built-ins, merge for custom
// resources), delete returns; plus token authentication and the errors kubectl shows. Real etcd,
// inside the private namespace scripts/test.sh runs this stage in (skipped anywhere else).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type EtcdServer, etcdSkipReason, startEtcd } from "../harness/etcd.ts";
import { eventually } from "../harness/eventually.ts";
import { type KubeApiServerFixture, startKubeApiServer } from "../harness/kube-apiserver.ts";
import { KUBECTLS, kubectlFor } from "../harness/kubectl.ts";

if (etcdSkipReason) console.warn(`kube-apiserver kubectl tests skipped: ${etcdSkipReason}`);

let etcd: EtcdServer | undefined;
let kube: KubeApiServerFixture | undefined;
beforeAll(async () => {
  if (etcdSkipReason) return;
  etcd = await startEtcd();
  kube = await startKubeApiServer({ etcd });
});
afterAll(async () => {
  await kube?.cleanup();
  await etcd?.cleanup();
});

/** A direct API call with the admin client certificate (to check what kubectl did). */
const api = (path: string, init?: RequestInit) => kube!.api(path, init);

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: SUFFIXpools.tartan.dev
spec:
  group: tartan.dev
  scope: Cluster
  names: {plural: SUFFIXpools, singular: SUFFIXpool, kind: SUFFIXPool, listKind: SUFFIXPoolList}
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [cidr, blockSize]
            properties:
              cidr: {type: string}
              blockSize: {type: integer, minimum: 0, maximum: 128}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;

const CR = `apiVersion: tartan.dev/v1alpha1
kind: SUFFIXPool
metadata: {name: default, labels: {tier: base}}
spec: {cidr: 10.244.0.0/16, blockSize: 26}
`;

const BUILT_INS = `apiVersion: v1
kind: Namespace
metadata: {name: NS}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: config, namespace: NS}
data: {mtu: "1450"}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: NS, labels: {app: web}}
spec:
  nodeName: node-1
  containers:
  - {name: main, image: busybox, command: [sleep, "3600"]}
  - {name: sidecar, image: busybox, command: [sleep, "3600"]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: NS}
spec:
  podSelector: {}
  policyTypes: [Ingress]
`;

KUBECTLS.forEach((bin, i) => {
  const skip = etcdSkipReason ?? bin.skipReason;
  if (bin.skipReason) console.warn(`${bin.name}: skipped: ${bin.skipReason}`);
  const sfx = `k${i}`;
  const ns = `conf-${sfx}`;
  describe.skipIf(skip !== undefined)(bin.name, () => {
    let k: ReturnType<typeof kubectlFor>;
    beforeAll(() => {
      k = kubectlFor(bin, kube!.kubeconfigPath);
    });

    test("apply: CRD and built-ins created, then unchanged; then the custom resource, twice", async () => {
      const crd = CRD.replaceAll("SUFFIX", sfx);
      const builtIns = BUILT_INS.replaceAll("NS", ns);
      const first = await k.ok(["apply", "-f", "-"], `${crd}---\n${builtIns}`);
      expect(first).toContain(`customresourcedefinition.apiextensions.k8s.io/${sfx}pools.tartan.dev created`);
      expect(first).toContain(`namespace/${ns} created`);
      expect(first).toContain("pod/web created");
      expect(first).toContain("networkpolicy.networking.k8s.io/deny-all created");
      const second = await k.ok(["apply", "-f", "-"], `${crd}---\n${builtIns}`);
      expect(second).toContain("pod/web unchanged");
      expect(second).toContain(`${sfx}pools.tartan.dev unchanged`);
      // kubectl learns the new kind from discovery (a fresh look, as after any CRD apply).
      const cr = CR.replaceAll("SUFFIX", sfx);
      expect(await k.ok(["apply", "-f", "-"], cr)).toContain(`${sfx}pool.tartan.dev/default created`);
      expect(await k.ok(["apply", "-f", "-"], cr)).toContain(`${sfx}pool.tartan.dev/default unchanged`);
      // What kubectl wrote is what the server stores, with the server's fields.
      const pod = await api(`/api/v1/namespaces/${ns}/pods/web`);
      expect(pod.status).toBe(200);
      expect(pod.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(pod.body.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).toContain(
        '"web"',
      );
      const pool = await api(`/apis/tartan.dev/v1alpha1/${sfx}pools/default`);
      expect(pool.body.spec).toEqual({ cidr: "10.244.0.0/16", blockSize: 26 });
      // A changed file is a patch (strategic for the Pod, merge for the custom resource).
      const changed = await k.ok(["apply", "-f", "-"], cr.replace("blockSize: 26", "blockSize: 27"));
      expect(changed).toContain(`${sfx}pool.tartan.dev/default configured`);
      expect((await api(`/apis/tartan.dev/v1alpha1/${sfx}pools/default`)).body.spec.blockSize).toBe(27);
    });

    test("get -o json round-trips: replace with it succeeds once, then conflicts", async () => {
      const json = await k.ok(["get", "pod", "web", "-n", ns, "-o", "json"]);
      const pod = JSON.parse(json);
      expect(pod.kind).toBe("Pod");
      expect(pod.spec.containers.map((c: { name: string }) => c.name)).toEqual(["main", "sidecar"]);
      const stored = await api(`/api/v1/namespaces/${ns}/pods/web`);
      expect(pod).toEqual(stored.body);
      pod.metadata.labels.roundtrip = "yes";
      const replaced = await k.ok(["replace", "-f", "-"], JSON.stringify(pod));
      expect(replaced).toContain("pod/web replaced");
      // The same resourceVersion again is stale now: 409 Conflict, as kube-apiserver answers.
      const again = await k.run(["replace", "-f", "-"], JSON.stringify(pod));
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain("the object has been modified");
      const list = JSON.parse(await k.ok(["get", `${sfx}pools`, "-o", "json"]));
      expect(list.items.map((x: { metadata: { name: string } }) => x.metadata.name)).toEqual(["default"]);
    });

    test("get --watch sees a label change", async () => {
      const proc = Bun.spawn(k.argv(["get", "pods", "-n", ns, "--watch", "-o", "json"]), {
        stdout: "pipe",
        stderr: "pipe",
      });
      let out = "";
      const reader = (async () => {
        const dec = new TextDecoder();
        for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) out += dec.decode(chunk);
      })();
      try {
        await eventually("the watch's first listing", () => out.includes('"name": "web"'), {
          timeoutMs: 30_000,
        });
        const value = `v${Date.now()}`;
        await k.ok(["label", "pod", "web", "-n", ns, `watched=${value}`]);
        await eventually("the label change on the watch", () => out.includes(`"watched": "${value}"`), {
          timeoutMs: 30_000,
        });
      } finally {
        proc.kill();
        await proc.exited;
        await reader.catch(() => {});
      }
    });

    test("label: add, overwrite, remove", async () => {
      expect(await k.ok(["label", "pod", "web", "-n", ns, "team=a"])).toContain("pod/web labeled");
      const refused = await k.run(["label", "pod", "web", "-n", ns, "team=b"]);
      expect(refused.code).not.toBe(0); // without --overwrite kubectl refuses
      await k.ok(["label", "pod", "web", "-n", ns, "team=b", "--overwrite"]);
      expect((await api(`/api/v1/namespaces/${ns}/pods/web`)).body.metadata.labels.team).toBe("b");
      await k.ok(["label", "pod", "web", "-n", ns, "team-"]);
      expect((await api(`/api/v1/namespaces/${ns}/pods/web`)).body.metadata.labels.team).toBeUndefined();
      const selected = await k.ok(["get", "pods", "-n", ns, "-l", "app=web,team!=b", "-o", "name"]);
      expect(selected.trim()).toBe("pod/web");
      expect((await k.ok(["get", "pods", "-n", ns, "-l", "app in (db)", "-o", "name"])).trim()).toBe("");
    });

    test("patch: strategic merges containers by name; merge patch on a custom resource; 415 for strategic on it", async () => {
      await k.ok([
        "patch",
        "pod",
        "web",
        "-n",
        ns,
        "-p",
        '{"spec":{"containers":[{"name":"main","image":"busybox:1.36"}]}}',
      ]);
      const pod = (await api(`/api/v1/namespaces/${ns}/pods/web`)).body;
      // A merge patch would have replaced the list; strategic merge keeps the sidecar.
      expect(pod.spec.containers.map((c: { name: string; image: string }) => `${c.name}=${c.image}`)).toEqual(
        ["main=busybox:1.36", "sidecar=busybox"],
      );
      expect(pod.metadata.generation).toBe(2);
      await k.ok(["patch", `${sfx}pool`, "default", "--type", "merge", "-p", '{"spec":{"blockSize":28}}']);
      expect((await api(`/apis/tartan.dev/v1alpha1/${sfx}pools/default`)).body.spec).toEqual({
        cidr: "10.244.0.0/16",
        blockSize: 28,
      });
      const json = await k.ok([
        "patch",
        `${sfx}pool`,
        "default",
        "--type",
        "json",
        "-p",
        '[{"op":"replace","path":"/spec/cidr","value":"10.245.0.0/16"}]',
      ]);
      expect(json).toContain("patched");
      const smp = await k.run(["patch", `${sfx}pool`, "default", "-p", '{"spec":{"blockSize":29}}']);
      expect(smp.code).not.toBe(0);
      expect(smp.stderr).toMatch(/415|UnsupportedMediaType|unknown format|not supported/i);
    });

    test("create of an existing object is AlreadyExists; a bad field selector is refused", async () => {
      const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: ${ns}}\n`;
      const r = await k.run(["create", "-f", "-"], cm);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("AlreadyExists");
      const byNode = await k.ok([
        "get",
        "pods",
        "--all-namespaces",
        "--field-selector",
        "spec.nodeName=node-1",
        "-o",
        "name",
      ]);
      expect(byNode).toContain("pod/web");
      const bad = await k.run(["get", "pods", "-n", ns, "--field-selector", "spec.image=x"]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain("not a known field selector");
    });

    test("a bearer token authenticates; a wrong one is Unauthorized", async () => {
      expect(await k.ok(["--context", "tartan-test-token", "get", "ns", ns, "-o", "name"])).toContain(
        `namespace/${ns}`,
      );
      const bad = await k.run(["--context", "tartan-test-token", "--token", "wrong", "get", "ns"]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/Unauthorized|provide credentials/);
    });

    test("delete returns, and the objects are gone (namespace deletion takes its objects)", async () => {
      const started = Date.now();
      expect(await k.ok(["delete", "pod", "web", "-n", ns])).toContain('pod "web" deleted');
      expect(Date.now() - started).toBeLessThan(30_000);
      expect((await api(`/api/v1/namespaces/${ns}/pods/web`)).status).toBe(404);
      await k.ok(["delete", `${sfx}pool`, "default"]);
      expect((await api(`/apis/tartan.dev/v1alpha1/${sfx}pools/default`)).status).toBe(404);
      await k.ok(["delete", "ns", ns]);
      expect((await api(`/api/v1/namespaces/${ns}/configmaps/config`)).status).toBe(404);
      await k.ok(["delete", "crd", `${sfx}pools.tartan.dev`]);
      expect((await api(`/apis/tartan.dev/v1alpha1/${sfx}pools`)).status).toBe(404);
    });
  });
});
