// Pods, Namespaces and NetworkPolicies as datastore objects on a real lab: `tartan apply|get|
// delete|label --lab NAME` reach the lab's etcd from inside its fabric namespace, `lab pod add`
// writes the Pod object before the CNI ADD, `lab label` changes labels, `lab pod rm` deletes it.
// The lab is removed afterwards (also on failure, also on a crash: see the exit hook).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { run } from "../../src/exec/run.ts";
import type { NetworkPolicyResource, PodResource } from "../../src/model/k8s-resources.ts";
import type { Resource } from "../../src/model/resource.ts";
import { labFixture } from "../harness/lab-fixture.ts";

const T = 240_000;
const { tartan, hasEtcd, name } = await labFixture("po", "tartan-objects-test-");
const files = mkdtempSync(join(tmpdir(), "tartan-objects-"));

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {team: a}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  nodeName: node-1
  containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: backend, labels: {app: db}}
spec: {nodeName: node-2, containers: [{name: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-team-a, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: a}}
      podSelector: {matchExpressions: [{key: app, operator: In, values: [api]}]}
    - ipBlock: {cidr: 10.244.0.0/16, except: [10.244.9.0/24]}
    ports: [{port: http}, {port: 9000, endPort: 9100, protocol: UDP}]
`;

async function tt(args: string[], stdin?: string) {
  return await run([tartan, ...args], { allowFailure: true, timeoutMs: 60_000, stdin });
}
async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await tt(args, stdin);
  if (r.code !== 0) throw new Error(`tartan ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
const getJson = async <R = Resource>(...args: string[]) =>
  JSON.parse(await ok(["get", ...args, "--lab", name, "-o", "json"])) as R;
const list = async (...args: string[]) => (await getJson<{ items: Resource[] }>(...args)).items;
const names = (items: Resource[]) => items.map((i) => `${i.metadata.namespace ?? ""}/${i.metadata.name}`);

afterAll(() => rmSync(files, { recursive: true, force: true }));

describe.skipIf(!hasEtcd)("policy objects on a lab", () => {
  test(
    "apply a multi-document file, get it back, all-or-nothing on an invalid document, lab pod objects, delete",
    async () => {
      await ok(["lab", "up", "--lab", name, "--nodes", "2"]);
      const file = join(files, "shop.yaml");
      writeFileSync(file, MANIFEST);

      // apply: namespace first, the missing namespace "backend" made for its pod.
      expect(await ok(["apply", "-f", file, "--lab", name])).toBe(
        [
          "namespace/shop created",
          "pod/web -n shop created",
          "namespace/backend created (for pod/db)",
          "pod/db -n backend created",
          "networkpolicy.networking.k8s.io/web-from-team-a -n shop created",
          "",
        ].join("\n"),
      );
      // A second apply changes nothing.
      expect((await ok(["apply", "-f", file, "--lab", name])).match(/unchanged/g)).toHaveLength(4);

      // get: JSON and YAML, defaults filled in, the namespace name label set.
      const pol = await getJson<NetworkPolicyResource>("networkpolicy", "web-from-team-a", "-n", "shop");
      expect(pol.spec.policyTypes).toEqual(["Ingress"]);
      expect(pol.spec.ingress?.[0]?.ports).toEqual([
        { protocol: "TCP", port: "http" },
        { protocol: "UDP", port: 9000, endPort: 9100 },
      ]);
      expect(pol.spec.ingress?.[0]?.from?.[0]).toEqual({
        namespaceSelector: { matchLabels: { team: "a" } },
        podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["api"] }] },
      });
      expect(pol.metadata.resourceVersion).toMatch(/^\d+$/);
      const nsYaml = parseYaml(await ok(["get", "ns", "shop", "--lab", name, "-o", "yaml"])) as Resource;
      expect(nsYaml.metadata.labels).toEqual({ team: "a", "kubernetes.io/metadata.name": "shop" });
      expect(names(await list("pods", "-A"))).toEqual(["backend/db", "shop/web"]);
      const web = await getJson<PodResource>("pod", "web", "-n", "shop");
      expect(web.spec.containers?.[0]?.ports).toEqual([
        { name: "http", containerPort: 8080, protocol: "TCP" },
      ]);
      expect(await ok(["get", "netpol", "-n", "shop", "--lab", name])).toMatch(
        /^NAME +POD-SELECTOR +POLICY-TYPES +AGE\nweb-from-team-a +app=web +Ingress +\d+s\n$/,
      );

      // An invalid third document (from stdin): the whole apply fails naming the field and the
      // reason, and documents 1 and 2 are not written.
      const bad = `apiVersion: v1
kind: Namespace
metadata: {name: fresh}
---
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: fresh}
spec: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: fresh}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 80, endPort: 79}]}]
`;
      const r = await tt(["apply", "-f", "-", "--lab", name], bad);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        "stdin: document 3 (NetworkPolicy fresh/bad): spec.ingress[0].ports[0].endPort: must be >= port (80)",
      );
      expect(r.stderr).toContain("nothing was written");
      expect((await tt(["get", "ns", "fresh", "--lab", name])).code).toBe(1);
      expect(await list("pods", "-n", "fresh")).toEqual([]);
      expect(names(await list("ns"))).toEqual(["/backend", "/shop"]);

      // lab pod add: the Pod object (labels, node, named ports) exists, in its namespace.
      const added = JSON.parse(
        await ok([
          "lab",
          "pod",
          "add",
          "node-2",
          "api",
          "--namespace",
          "shop",
          "--labels",
          "app=api,tier=x",
          "--ports",
          "http:8080/TCP,metrics:9100",
          "--lab",
          name,
          "-o",
          "json",
        ]),
      ) as { podObject: string; ips: string[] };
      expect(added.podObject).toBe("applied");
      const api = await getJson<PodResource>("pod", "api", "-n", "shop");
      expect(api.metadata.labels).toEqual({ app: "api", tier: "x" });
      expect(api.spec.nodeName).toBe("node-2");
      expect(api.spec.containers?.[0]?.ports).toEqual([
        { name: "http", containerPort: 8080, protocol: "TCP" },
        { name: "metrics", containerPort: 9100, protocol: "TCP" },
      ]);
      // A pod in a namespace nobody declared gets its Namespace.
      await ok(["lab", "pod", "add", "node-1", "solo/one", "--lab", name]);
      expect((await getJson("ns", "solo")).metadata.labels).toEqual({
        "kubernetes.io/metadata.name": "solo",
      });

      // lab label: pod and namespace labels change in the datastore (and in the lab state).
      await ok(["lab", "label", "pod", "shop/api", "tier-", "role=backend", "--lab", name]);
      expect((await getJson("pod", "api", "-n", "shop")).metadata.labels).toEqual({
        app: "api",
        role: "backend",
      });
      await ok(["lab", "label", "namespace", "shop", "env=prod", "--lab", name]);
      expect((await getJson("ns", "shop")).metadata.labels).toEqual({
        team: "a",
        "kubernetes.io/metadata.name": "shop",
        env: "prod",
      });
      const ls = JSON.parse(await ok(["lab", "ls", "--lab", name, "-o", "json"])) as {
        pods: { pod: string }[];
      };
      expect(ls.pods.map((p) => p.pod).sort()).toEqual(["shop/api", "solo/one"]);
      // tartan label works on the lab directly as well.
      await ok(["label", "pod", "web", "-n", "shop", "version=2", "--lab", name]);
      expect((await getJson("pod", "web", "-n", "shop")).metadata.labels).toEqual({
        app: "web",
        version: "2",
      });

      // lab pod rm deletes the Pod object.
      await ok(["lab", "pod", "rm", "shop/api", "--lab", name]);
      expect((await tt(["get", "pod", "api", "-n", "shop", "--lab", name])).code).toBe(1);

      // delete -f: everything of the file goes (the namespace takes what is left in it).
      const d = await ok(["delete", "-f", file, "--lab", name]);
      expect(d).toContain("namespace/shop deleted");
      expect(d).toContain("networkpolicy.networking.k8s.io/web-from-team-a -n shop deleted");
      expect(await list("netpol", "-A")).toEqual([]);
      expect(names(await list("pods", "-A"))).toEqual(["solo/one"]);
      expect(names(await list("ns"))).toEqual(["/backend", "/solo"]);
      expect((await tt(["delete", "-f", file, "--lab", name])).code).toBe(1);

      await ok(["lab", "down", "--lab", name]);
      expect(readdirSync("/run/netns").filter((n) => n.startsWith(`tl-${name}-`))).toEqual([]);
      expect(existsSync(`/run/tartan-lab/${name}`)).toBe(false);
    },
    T,
  );
});
