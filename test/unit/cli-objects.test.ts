// tartan apply / delete / get / label over the datastore port: YAML parsing (multi-document,
// List, all-or-nothing validation), create-or-update with compare-and-swap, namespaces made on
// demand, cascade on namespace delete, the datastore choice (lab, --datastore, --config), and
// the whole command against a local (SQLite) datastore. The lab path runs in test/e2e.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeHeartbeat } from "../../src/agent/node-heartbeat.ts";
import { applyObjects } from "../../src/cli/apply-objects.ts";
import { CLI_COMMANDS } from "../../src/cli/commands/cli-commands.ts";
import { datastoreTarget, parseDatastoreOption } from "../../src/cli/datastore-target.ts";
import { deleteObjects } from "../../src/cli/delete-objects.ts";
import { formatGetTable } from "../../src/cli/format-objects.ts";
import { getObjects } from "../../src/cli/get-objects.ts";
import { labelObject, parseLabelChange } from "../../src/cli/label-object.ts";
import { parseManifests } from "../../src/cli/parse-manifests.ts";
import { resourceKind } from "../../src/cli/resource-kind.ts";
import { runCommandTable } from "../../src/cli/run-command-table.ts";
import type { Datastore } from "../../src/datastore/datastore.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import type { LabState } from "../../src/lab/lab-state.ts";
import type { PodResource } from "../../src/model/k8s-resources.ts";
import { type Resource, TARTAN_API_VERSION } from "../../src/model/resource.ts";

const tmp = mkdtempSync(join(tmpdir(), "tartan-cli-objects-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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
  containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 80}]}]
---
# a comment-only document is skipped
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-http, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: a}}, podSelector: {}}]
    ports: [{port: http}, {port: 8000, endPort: 8080}]
`;

function thrown(f: () => unknown): TartanError {
  try {
    f();
  } catch (e) {
    if (e instanceof TartanError) return e;
    throw e;
  }
  throw new Error("expected a TartanError");
}

async function rejected(p: Promise<unknown>): Promise<TartanError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TartanError) return e;
    throw e;
  }
  throw new Error("expected a TartanError");
}

describe("parseManifests", () => {
  test("multi-document YAML, JSON and kind: List; empty documents skipped", () => {
    const objs = parseManifests([
      { name: "a.yaml", text: MANIFEST },
      {
        name: "b.json",
        text: JSON.stringify({
          apiVersion: "v1",
          kind: "List",
          items: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } }],
        }),
      },
      { name: "empty.yaml", text: "" },
    ]);
    expect(objs.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`)).toEqual([
      "Namespace /shop",
      "Pod shop/web",
      "NetworkPolicy shop/allow-http",
      "Namespace /x",
    ]);
  });

  test("every problem of every document, named by source and document; nothing returned", () => {
    const bad = MANIFEST.replace("endPort: 8080", "endPort: 7000").replace("name: c,", "name: C,");
    const e = thrown(() => parseManifests([{ name: "m.yaml", text: bad }]));
    expect(e.code).toBe("object-invalid");
    expect(e.message.split("\n")).toEqual([
      "m.yaml: document 2 (Pod shop/web): spec.containers[0].name: invalid value \"C\": must be a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit",
      "m.yaml: document 4 (NetworkPolicy shop/allow-http): spec.ingress[0].ports[1].endPort: must be >= port (8000)",
    ]);
    expect(e.hint).toStartWith("nothing was written");
  });

  test("YAML syntax errors, duplicates and -n conflicts are errors", () => {
    expect(thrown(() => parseManifests([{ name: "s.yaml", text: "a: [1" }])).message).toStartWith(
      "s.yaml: document 1: not valid YAML:",
    );
    const ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n";
    expect(thrown(() => parseManifests([{ name: "d.yaml", text: `${ns}---\n${ns}` }])).message).toBe(
      "d.yaml: document 2 (Namespace a): the same object as d.yaml: document 1",
    );
    expect(thrown(() => parseManifests([{ name: "m.yaml", text: MANIFEST }], "prod")).message).toStartWith(
      'm.yaml: document 2 (Pod shop/web): metadata.namespace "shop" does not match -n prod',
    );
  });

  test("-n fills in the namespace of objects that have none", () => {
    const pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n";
    expect(parseManifests([{ name: "p", text: pod }], "dev")[0]?.metadata.namespace).toBe("dev");
    expect(parseManifests([{ name: "p", text: pod }])[0]?.metadata.namespace).toBe("default");
  });
});

describe("applyObjects", () => {
  test("create, then unchanged (no write), then configured; namespaces made on demand", async () => {
    const ds = new MemoryDatastore();
    const objs = parseManifests([{ name: "m", text: MANIFEST }]);
    const podOnly = parseManifests([
      { name: "p", text: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: auto}\nspec: {}\n" },
    ]);
    expect(await applyObjects(ds, [...objs, ...podOnly])).toEqual([
      { kind: "Namespace", name: "shop", action: "created" },
      { kind: "Pod", namespace: "shop", name: "web", action: "created" },
      { kind: "NetworkPolicy", namespace: "shop", name: "allow-http", action: "created" },
      { kind: "Namespace", name: "auto", action: "created", implicitFor: "pod/p" },
      { kind: "Pod", namespace: "auto", name: "p", action: "created" },
    ]);
    expect((await ds.get("Namespace", "auto"))?.metadata.labels).toEqual({
      "kubernetes.io/metadata.name": "auto",
    });
    const rv = (await ds.get("Pod", "web", "shop"))?.metadata.resourceVersion;
    expect((await applyObjects(ds, objs)).map((r) => r.action)).toEqual([
      "unchanged",
      "unchanged",
      "unchanged",
    ]);
    expect((await ds.get("Pod", "web", "shop"))?.metadata.resourceVersion).toBe(rv!);
    const changed = parseManifests([
      { name: "m", text: MANIFEST.replace("{app: web}}\nspec:", "{app: shop}}\nspec:") },
    ]);
    expect((await applyObjects(ds, changed)).map((r) => r.action)).toEqual([
      "unchanged",
      "configured",
      "unchanged",
    ]);
    const pod = await ds.get("Pod", "web", "shop");
    expect(pod?.metadata.labels).toEqual({ app: "shop" });
    expect(pod?.metadata.uid).toBeString();
  });

  test("a stored status survives a re-apply without one (the agent owns it)", async () => {
    const ds = new MemoryDatastore();
    const [pod] = parseManifests([
      { name: "p", text: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n" },
    ]);
    await applyObjects(ds, [pod!]);
    const stored = (await ds.get("Pod", "p", "default")) as PodResource;
    await ds.update({ ...stored, status: { podIPs: [{ ip: "10.0.0.5" }] } });
    const relabeled = { ...pod!, metadata: { ...pod!.metadata, labels: { a: "b" } } };
    expect((await applyObjects(ds, [relabeled])).map((r) => r.action)).toEqual(["configured"]);
    expect(((await ds.get("Pod", "p", "default")) as PodResource).status).toEqual({
      podIPs: [{ ip: "10.0.0.5" }],
    });
  });

  test("a conflicting writer between read and update: re-read and retry", async () => {
    const ds = new MemoryDatastore();
    const [ns] = parseManifests([
      { name: "n", text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n" },
    ]);
    await applyObjects(ds, [ns!]);
    let raced = false;
    // The first update loses a race against another writer.
    const racing: Datastore = Object.assign(Object.create(ds) as Datastore, {
      update: async (o: Resource) => {
        if (!raced) {
          raced = true;
          const cur = (await ds.get("Namespace", "a"))!;
          await ds.update({ ...cur, metadata: { ...cur.metadata, annotations: { other: "writer" } } });
        }
        return ds.update(o);
      },
    });
    const changed = { ...ns!, metadata: { ...ns!.metadata, labels: { ...ns!.metadata.labels, x: "y" } } };
    expect((await applyObjects(racing, [changed])).map((r) => r.action)).toEqual(["configured"]);
    expect(raced).toBe(true);
    expect((await ds.get("Namespace", "a"))?.metadata.labels?.x).toBe("y");
  });

  test("a resourceVersion in the input is a precondition", async () => {
    const ds = new MemoryDatastore();
    const [ns] = parseManifests([
      { name: "n", text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, resourceVersion: '999'}\n" },
    ]);
    const e = await rejected(applyObjects(ds, [ns!]));
    expect(e.code).toBe("datastore-conflict");
    expect(await ds.get("Namespace", "a")).toBeUndefined();
  });
});

describe("deleteObjects, getObjects, labelObject", () => {
  test("delete: namespaced objects first; a Namespace takes its Pods and NetworkPolicies along", async () => {
    const ds = new MemoryDatastore();
    const objs = parseManifests([{ name: "m", text: MANIFEST }]);
    await applyObjects(ds, objs);
    const extra = parseManifests([
      { name: "p", text: "apiVersion: v1\nkind: Pod\nmetadata: {name: extra, namespace: shop}\nspec: {}\n" },
    ]);
    await applyObjects(ds, extra);
    const ns = objs.filter((o) => o.kind === "Namespace");
    const pol = objs.filter((o) => o.kind === "NetworkPolicy");
    expect(await deleteObjects(ds, [...ns, ...pol])).toEqual([
      { kind: "NetworkPolicy", namespace: "shop", name: "allow-http", action: "deleted" },
      { kind: "Pod", namespace: "shop", name: "extra", action: "deleted", withNamespace: "shop" },
      { kind: "Pod", namespace: "shop", name: "web", action: "deleted", withNamespace: "shop" },
      { kind: "Namespace", name: "shop", action: "deleted" },
    ]);
    expect((await deleteObjects(ds, pol)).map((r) => r.action)).toEqual(["not found"]);
  });

  test("get nodes as a table shows the heartbeat lease's renewal; other formats do not read the leases", async () => {
    const ds = new MemoryDatastore();
    const nodes = resourceKind("nodes", { readable: true });
    await ds.create({
      apiVersion: TARTAN_API_VERSION,
      kind: "Node",
      metadata: { name: "n1" },
      spec: { underlayAddress: "198.18.0.11", underlaySubnet: "198.18.0.0/24" },
      status: { heartbeat: "2026-12-05T10:00:00.000Z", ready: true },
    });
    const now = Date.parse("2026-12-05T10:10:00.000Z");
    const row = async (heartbeats: boolean) =>
      formatGetTable(await getObjects(ds, { kind: nodes, heartbeats }), now).split("\n")[1];
    expect(await row(true)).toContain("10m ago"); // no lease yet: the Node's own heartbeat
    await new NodeHeartbeat(ds, "n1", 180_000, () => Date.parse("2026-12-05T10:09:30.000Z")).beat();
    expect(await row(true)).toContain("30s ago");
    expect((await getObjects(ds, { kind: nodes, heartbeats: false })).heartbeats).toBeUndefined();
    expect((await getObjects(ds, { kind: nodes, name: "n1", heartbeats: true })).heartbeats?.get("n1")).toBe(
      "2026-12-05T10:09:30.000Z",
    );
  });

  test("get: one namespace (default 'default'), all namespaces, by name, not found", async () => {
    const ds = new MemoryDatastore();
    await applyObjects(ds, parseManifests([{ name: "m", text: MANIFEST }]));
    const pods = resourceKind("po");
    expect((await getObjects(ds, { kind: pods })).items).toEqual([]);
    expect(
      (await getObjects(ds, { kind: pods, namespace: "shop" })).items.map((p) => p.metadata.name),
    ).toEqual(["web"]);
    expect((await getObjects(ds, { kind: pods, allNamespaces: true })).items).toHaveLength(1);
    expect(
      (await getObjects(ds, { kind: resourceKind("ns"), namespace: "ignored" })).items.map(
        (n) => n.metadata.name,
      ),
    ).toEqual(["shop"]);
    const one = await getObjects(ds, { kind: resourceKind("netpol"), name: "allow-http", namespace: "shop" });
    expect(one.single).toBe(true);
    expect(one.items[0]?.spec).toMatchObject({ policyTypes: ["Ingress"] });
    const e = await rejected(getObjects(ds, { kind: pods, name: "nope", namespace: "shop" }));
    expect(e.message).toBe('pod "nope" not found in namespace shop');
    expect(thrown(() => resourceKind("deployments")).code).toBe("cli-usage");
  });

  test("label: set and remove with CAS, validated; the namespace name label is protected", async () => {
    const ds = new MemoryDatastore();
    await applyObjects(ds, parseManifests([{ name: "m", text: MANIFEST }]));
    const r = await labelObject(
      ds,
      resourceKind("pod"),
      "web",
      "shop",
      ["tier=front", "app-"].map(parseLabelChange),
    );
    expect(r.changed).toBe(true);
    expect((await ds.get("Pod", "web", "shop"))?.metadata.labels).toEqual({ tier: "front" });
    expect(
      (await labelObject(ds, resourceKind("pod"), "web", "shop", [parseLabelChange("tier=front")])).changed,
    ).toBe(false);
    expect(
      (await rejected(labelObject(ds, resourceKind("pod"), "web", "shop", [parseLabelChange("bad key=x")])))
        .code,
    ).toBe("object-invalid");
    expect(
      (
        await rejected(
          labelObject(ds, resourceKind("ns"), "shop", undefined, [
            parseLabelChange("kubernetes.io/metadata.name-"),
          ]),
        )
      ).code,
    ).toBe("object-invalid");
    expect(thrown(() => parseLabelChange("novalue")).code).toBe("cli-usage");
  });
});

describe("datastoreTarget", () => {
  const root = join(tmp, "labs");
  const writeLab = (name: string, etcd = true) => {
    mkdirSync(join(root, name), { recursive: true });
    // The real state type: if the lab's LabState drops these fields, this stops compiling.
    const s: Pick<LabState, "name" | "fabric" | "etcd"> = {
      name,
      fabric: { netns: `tl-${name}-fabric`, bridges: [] },
      ...(etcd
        ? { etcd: { pid: 1, startTime: "1", argv: [], log: "", endpoint: "http://198.18.0.1:2379" } }
        : {}),
    };
    writeFileSync(join(root, name, "lab.json"), JSON.stringify(s));
  };

  test("no lab, nothing given: an error that says what to do", () => {
    const e = thrown(() => datastoreTarget({}, join(tmp, "none")));
    expect(e.code).toBe("no-datastore");
    expect(e.hint).toContain("tartan lab up");
    expect(e.hint).toContain("--datastore https://HOST:2379 --etcd-ca FILE");
  });

  test("the one lab that is up; --lab picks among several; several without --lab is an error", () => {
    writeLab("one");
    expect(datastoreTarget({}, root)).toEqual({
      type: "lab",
      lab: "one",
      netns: "tl-one-fabric",
      endpoint: "http://198.18.0.1:2379",
    });
    writeLab("two");
    expect(thrown(() => datastoreTarget({}, root)).message).toBe("2 labs are up (one, two): which one?");
    expect(datastoreTarget({ lab: "two" }, root)).toMatchObject({ type: "lab", netns: "tl-two-fabric" });
    expect(thrown(() => datastoreTarget({ lab: "three" }, root)).code).toBe("lab-not-up");
    writeLab("noetcd", false);
    expect(thrown(() => datastoreTarget({ lab: "noetcd" }, root)).code).toBe("lab-no-datastore");
  });

  test("--datastore and --config win over labs", () => {
    expect(datastoreTarget({ datastore: "etcd=http://10.0.0.1:2379,http://10.0.0.2:2379" }, root)).toEqual({
      type: "direct",
      config: { type: "etcd", endpoints: ["http://10.0.0.1:2379", "http://10.0.0.2:2379"] },
      source: "--datastore",
    });
    expect(parseDatastoreOption("local=/x.db")).toEqual({ type: "local", path: "/x.db" });
    expect(parseDatastoreOption("kubernetes")).toEqual({ type: "kubernetes" });
    expect(parseDatastoreOption("kubernetes=/etc/k/config")).toEqual({
      type: "kubernetes",
      kubeconfig: "/etc/k/config",
    });
    expect(thrown(() => parseDatastoreOption("kubernetes=")).code).toBe("cli-usage");
    expect(thrown(() => parseDatastoreOption("consul=x")).code).toBe("cli-usage");
    const cfg = join(tmp, "agent.yaml");
    writeFileSync(
      cfg,
      "nodeName: n1\nunderlayInterface: eth0\ndatastore: {type: etcd, endpoints: ['http://10.9.0.1:2379']}\n",
    );
    expect(datastoreTarget({ config: cfg }, root)).toMatchObject({
      type: "direct",
      config: { endpoints: ["http://10.9.0.1:2379"] },
    });
    expect(thrown(() => datastoreTarget({ config: cfg, lab: "one" }, root)).code).toBe("cli-usage");
  });
});

describe("apply/get/label/delete through the command table on a local datastore", () => {
  const db = join(tmp, "ds.db");
  const file = join(tmp, "m.yaml");
  writeFileSync(file, MANIFEST);
  async function cli(args: string[], stdin = "") {
    let out = "";
    let err = "";
    const code = await runCommandTable(CLI_COMMANDS, [...args, "--datastore", `local=${db}`], {
      io: {
        out: (t) => {
          out += t;
        },
        err: (t) => {
          err += t;
        },
        stdin: async () => stdin,
      },
      env: {},
    });
    return { code, out, err };
  }

  test("an invalid third document: the apply fails with field and reason, writes nothing", async () => {
    const bad = `${MANIFEST}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: shop}\nspec:\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]\n`;
    const e = await cli(["apply", "-f", "-"], bad);
    expect(e.code).toBe(1);
    expect(e.err).toStartWith(
      "tartan: stdin: document 5 (NetworkPolicy shop/bad): spec.ingress[0].from[0]: may not specify both ipBlock and another peer (podSelector or namespaceSelector) (",
    );
    // Nothing written, not even a database; and get, a reader, does not create one either.
    expect(existsSync(db)).toBe(false);
    const g = await cli(["get", "ns", "-o", "json"]);
    expect(g.code).toBe(1);
    expect(g.err).toStartWith(`tartan: no local datastore at ${db} (`);
    expect(existsSync(db)).toBe(false);
  });

  test("apply, get in json and yaml, re-apply unchanged, delete", async () => {
    const a = await cli(["apply", "-f", file]);
    expect(a).toEqual({
      code: 0,
      out: "namespace/shop created\npod/web -n shop created\nnetworkpolicy.networking.k8s.io/allow-http -n shop created\n",
      err: "",
    });
    const pol = JSON.parse(
      (await cli(["get", "networkpolicies", "allow-http", "-n", "shop", "-o", "json"])).out,
    );
    expect(pol.spec.ingress[0].ports).toEqual([
      { protocol: "TCP", port: "http" },
      { protocol: "TCP", port: 8000, endPort: 8080 },
    ]);
    const yaml = (await cli(["get", "pods", "-A", "-o", "yaml"])).out;
    expect(yaml).toContain("kind: List");
    expect(yaml).toContain("containerPort: 80");
    expect((await cli(["get", "pods", "-n", "shop"])).out).toMatch(
      /^NAME +NODE +IPS +LABELS +AGE\nweb +node-1 +<none> +app=web +\d+s\n$/,
    );
    expect((await cli(["apply", "-f", file, "-o", "json"])).out).toContain('"action": "unchanged"');
    const d = await cli(["delete", "-f", file]);
    expect(d.code).toBe(0);
    expect((await cli(["get", "ns", "-o", "json"])).out).toContain('"items": []');
    const again = await cli(["delete", "-f", file]);
    expect(again.code).toBe(1);
    expect(again.err).toContain("Namespace shop not found");
    expect((await cli(["delete", "-f", file, "--ignore-not-found"])).code).toBe(0);
  });

  test("usage errors come before any datastore is opened: exit 2, one line naming the help", async () => {
    for (const args of [
      ["apply"],
      ["get", "deployments"],
      ["get", "pods", "x", "-A"],
      ["get", "pods", "--bogus"],
    ]) {
      const r = await cli(args);
      expect({ args, code: r.code, out: r.out }).toEqual({ args, code: 2, out: "" });
      expect(r.err).toMatch(/^tartan: .+\n$/);
    }
    expect((await cli(["get", "pods", "--bogus"])).err).toBe(
      "tartan: unknown option --bogus (see tartan get --help)\n",
    );
    const missing = await cli(["apply", "-f", join(tmp, "missing.yaml")]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("ENOENT");
  });

  test("a pod is POD or NS/POD in get and label, as in the lab commands", async () => {
    expect((await cli(["apply", "-f", file])).code).toBe(0);
    const byRef = JSON.parse((await cli(["get", "pod", "shop/web", "-o", "json"])).out);
    expect(byRef.metadata).toMatchObject({ namespace: "shop", name: "web" });
    const byFlag = JSON.parse((await cli(["get", "pod", "web", "-n", "shop", "-o", "json"])).out);
    expect(byFlag.metadata.uid).toBe(byRef.metadata.uid);
    const l = await cli(["label", "pod", "shop/web", "tier=front"]);
    expect(l).toEqual({ code: 0, out: "pod/shop/web labeled\n", err: "" });
    expect(JSON.parse((await cli(["get", "po", "shop/web", "-o", "json"])).out).metadata.labels).toEqual({
      app: "web",
      tier: "front",
    });
    const clash = await cli(["get", "pod", "shop/web", "-n", "other"]);
    expect(clash.code).toBe(2);
    expect(clash.err).toContain("names namespace shop, but -n says other");
    expect((await cli(["delete", "-f", file])).code).toBe(0);
  });
});
