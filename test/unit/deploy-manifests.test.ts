// The install manifest (deploy/tartan.yaml) and the samples (deploy/samples/), validated offline:
// built-in objects against the Kubernetes OpenAPI schemas (kubernetes-models), each CRD as a
// structural schema, every sample custom resource against its CRD's openAPIV3Schema (ajv, with
// the formats the API server checks, unknown fields refused as `kubectl --validate=strict`
// would), and the install's policy: host network, priority, tolerations, host paths and their
// types, probes on the agent's listener, RBAC within the reference table, no secrets, no wildcards.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { parseAgentConfig } from "../../src/agent/agent-config.ts";
import { parseCidr } from "../../src/model/cidr.ts";
import { FieldErrors } from "../../src/model/field-errors.ts";
import { validateClusterObject } from "../../src/model/validate-cluster-object.ts";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML walked by path; the schemas check the shapes
type Obj = Record<string, any>;
const ROOT = join(import.meta.dir, "../..");
const readDocs = (path: string): Obj[] =>
  parseAllDocuments(readFileSync(path, "utf8"))
    .map((d) => {
      if (d.errors.length) throw new Error(`${path}: ${d.errors[0]!.message}`);
      return d.toJS() as Obj | null;
    })
    .filter((o): o is Obj => o !== null);

const MANIFEST = readDocs(join(ROOT, "deploy/tartan.yaml"));
const SAMPLE_FILES = readdirSync(join(ROOT, "deploy/samples")).filter((f) => f.endsWith(".yaml"));
const SAMPLES = SAMPLE_FILES.flatMap((f) => readDocs(join(ROOT, "deploy/samples", f)).map((o) => ({ f, o })));

const only = (kind: string, name?: string): Obj => {
  const found = MANIFEST.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ""}, found ${found.length}`);
  return found[0]!;
};
const ofKind = (kind: string) => MANIFEST.filter((o) => o.kind === kind);

/** The generated models of the built-in kinds the install and the samples use. */
// biome-ignore lint/suspicious/noExplicitAny: each model takes its own input type; YAML is checked at run time
const BUILTIN: Record<string, new (o: any) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": CustomResourceDefinition,
  "apps/v1/DaemonSet": DaemonSet,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
};

function builtinErrors(o: Obj): string | undefined {
  const Model = BUILTIN[`${o.apiVersion}/${o.kind}`];
  if (!Model) return `no schema for ${o.apiVersion} ${o.kind}`;
  try {
    new Model(o).validate();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

// ── CRD schemas with ajv ────────────────────────────────────────────────────────────────────────

const ajv = new Ajv({ strict: false, allErrors: true });
// The formats the API server checks for CRDs (k8s.io/kube-openapi strfmt) that the CRDs use,
// checked with tartan's own parsers so a sample and the agent agree.
const parses = (f: (s: string) => unknown) => (s: string) => {
  try {
    f(s);
    return true;
  } catch {
    return false;
  }
};
ajv.addFormat(
  "cidr",
  parses((s) => parseCidr(s)),
);
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat("int32", { type: "number", validate: (n: number) => n >= -(2 ** 31) && n < 2 ** 31 });

/**
 * The schema as `kubectl apply --validate=strict` judges an object: a field the schema does not
 * know is an error (the API server would prune it silently, so a sample with a typo would lose
 * the field without a word). Objects that preserve unknown fields or map values stay open.
 */
function strict(schema: Obj): Obj {
  if (Array.isArray(schema)) return schema.map(strict);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Obj = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] =
      k === "properties"
        ? Object.fromEntries(Object.entries(v as Obj).map(([p, s]) => [p, strict(s as Obj)]))
        : strict(v as Obj);
  }
  if (
    out.properties &&
    !out["x-kubernetes-preserve-unknown-fields"] &&
    out.additionalProperties === undefined
  ) {
    out.additionalProperties = false;
  }
  return out;
}

const CRDS = ofKind("CustomResourceDefinition");
const validators = new Map<string, ValidateFunction>();
for (const crd of CRDS) {
  for (const v of crd.spec.versions) {
    const schema = strict(v.schema.openAPIV3Schema);
    // metadata is the API server's (ObjectMeta), not the CRD's: checked by tartan's validators.
    schema.properties.metadata = { type: "object" };
    validators.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(schema));
  }
}
function crErrors(o: Obj): string[] | undefined {
  const v = validators.get(`${o.apiVersion}/${o.kind}`);
  if (!v) return undefined;
  return v(o) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
}

/** A structural schema (what apiextensions.k8s.io/v1 requires): every node says its type. */
function structuralProblems(schema: Obj, path: string): string[] {
  const problems: string[] = [];
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  const intOrString = schema["x-kubernetes-int-or-string"] === true;
  if (!schema.type && !preserve && !intOrString) problems.push(`${path}: no type`);
  for (const [name, sub] of Object.entries((schema.properties ?? {}) as Obj))
    problems.push(...structuralProblems(sub as Obj, `${path}.${name}`));
  if (schema.items) problems.push(...structuralProblems(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === "object")
    problems.push(...structuralProblems(schema.additionalProperties, `${path}{}`));
  return problems;
}

// ── the reference's RBAC table (reference/k8s/KUBERNETES-MODE.md (a)), as data ──────────────────

/** Per API group and resource: the verbs the table allows the agent. */
const RBAC_TABLE: Record<string, Record<string, string[]>> = {
  "": {
    pods: ["get", "list", "watch"],
    namespaces: ["get", "list", "watch"],
    nodes: ["get", "list", "watch"],
    "nodes/status": ["patch"],
  },
  "networking.k8s.io": { networkpolicies: ["get", "list", "watch"] },
  "tartan.dev": {
    // create: the agent seeds its configured pools, which the table allows ("create only if …").
    ippools: ["get", "list", "watch", "create"],
    ipamblocks: ["get", "list", "watch", "create", "update", "delete"],
    "ipamblocks/status": ["update", "patch"],
    // BGP came after the table (issue 10): read-only, like the other configuration kinds.
    bgpconfigurations: ["get", "list", "watch"],
    bgppeers: ["get", "list", "watch"],
  },
  // The table's lease row is get, create, update; delete lets a stopping agent hand the node
  // reclaimer's lease over at once instead of after its expiry, and the reclaimer drop the
  // heartbeat leases of nodes that are gone; list: the reclaimer reads every heartbeat lease.
  "coordination.k8s.io": { leases: ["get", "list", "create", "update", "delete"] },
};

const rules = (kind: string): { role: string; rule: Obj }[] =>
  ofKind(kind).flatMap((r) => (r.rules as Obj[]).map((rule) => ({ role: r.metadata.name, rule })));

// ── tests ───────────────────────────────────────────────────────────────────────────────────────

describe("deploy/tartan.yaml: every object against the Kubernetes schemas", () => {
  test("the objects an install needs, each once", () => {
    expect(MANIFEST.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Namespace/tartan-system",
      "CustomResourceDefinition/ippools.tartan.dev",
      "CustomResourceDefinition/ipamblocks.tartan.dev",
      "CustomResourceDefinition/bgpconfigurations.tartan.dev",
      "CustomResourceDefinition/bgppeers.tartan.dev",
      "ServiceAccount/tartan-node",
      "ClusterRole/tartan-node",
      "ClusterRoleBinding/tartan-node",
      "Role/tartan-node",
      "RoleBinding/tartan-node",
      "ConfigMap/tartan-config",
      "DaemonSet/tartan-node",
    ]);
  });

  for (const o of MANIFEST) {
    test(`${o.kind} ${o.metadata.name} is valid`, () => {
      expect(builtinErrors(o)).toBeUndefined();
    });
  }

  test("the schemas can fail: broken copies are refused", () => {
    const ds = structuredClone(only("DaemonSet"));
    ds.spec.template.spec.hostNetwork = "yes";
    ds.spec.template.spec.volumes[1].hostPath.type = "Folder";
    expect(builtinErrors(ds)).toMatch(/hostNetwork must be boolean.*hostPath\/type must be equal to one of/s);
    const role = structuredClone(only("ClusterRole"));
    delete role.rules[0].verbs;
    expect(builtinErrors(role)).toMatch(/rules\/0 must have required property '?verbs/);
  });

  test("every namespaced object lives in tartan-system, which admits privileged pods", () => {
    const ns = only("Namespace");
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    for (const o of MANIFEST.filter((x) =>
      ["ServiceAccount", "Role", "RoleBinding", "ConfigMap", "DaemonSet"].includes(x.kind),
    ))
      expect(`${o.kind}:${o.metadata.namespace}`).toBe(`${o.kind}:tartan-system`);
    // The Namespace comes first, so one apply creates it before what lives in it.
    expect(MANIFEST[0]!.kind).toBe("Namespace");
  });
});

describe("CRDs: structural schemas with a status subresource", () => {
  for (const crd of CRDS) {
    test(`${crd.metadata.name}`, () => {
      const { group, names, scope, versions } = crd.spec;
      expect(group).toBe("tartan.dev");
      expect(crd.metadata.name).toBe(`${names.plural}.${group}`);
      expect(scope).toBe("Cluster");
      expect(names.listKind).toBe(`${names.kind}List`);
      expect(versions.filter((v: Obj) => v.storage)).toHaveLength(1);
      for (const v of versions) {
        expect(v.subresources?.status).toEqual({});
        const s = v.schema.openAPIV3Schema;
        expect(s.type).toBe("object");
        expect(s.properties.spec.type).toBe("object");
        expect(s.properties.status.type).toBe("object");
        expect(structuralProblems(s, "openAPIV3Schema")).toEqual([]);
        for (const c of v.additionalPrinterColumns ?? []) {
          const field = c.jsonPath.split(".").slice(1);
          if (field[0] === "metadata") continue;
          let at: Obj | undefined = s;
          for (const p of field) at = at?.properties?.[p];
          expect(`${c.name} ${c.jsonPath} ${at?.type}`).toBe(`${c.name} ${c.jsonPath} ${c.type}`);
        }
      }
    });
  }

  test("the adapter's kinds have the fields tartan stores (model/cluster-resources.ts)", () => {
    const spec = (plural: string) =>
      only("CustomResourceDefinition", `${plural}.tartan.dev`).spec.versions[0].schema.openAPIV3Schema
        .properties.spec;
    expect(spec("ippools").required.sort()).toEqual(["blockSize", "cidr"]);
    expect(spec("ipamblocks").required.sort()).toEqual(["cidr", "node", "pool"]);
    expect(only("CustomResourceDefinition", "ipamblocks.tartan.dev").spec.names.shortNames).toEqual([
      "ttblock",
    ]);
  });
});

describe("deploy/samples: every custom resource against its CRD", () => {
  test("there are samples of every tartan kind", () => {
    const kinds = new Set(SAMPLES.map((s) => s.o.kind));
    for (const crd of CRDS) expect(kinds).toContain(crd.spec.names.kind);
  });

  for (const { f, o } of SAMPLES) {
    test(`${f}: ${o.kind} ${o.metadata.name}`, () => {
      const errs = crErrors(o);
      if (errs === undefined) {
        expect(builtinErrors(o)).toBeUndefined();
        return;
      }
      expect(errs).toEqual([]);
      expect(o.metadata.namespace).toBeUndefined();
      // The agent's own ingestion check agrees (what it refuses, it would ignore in the cluster).
      if (o.kind === "IPPool" || o.kind === "IPAMBlock") {
        const fe = new FieldErrors();
        validateClusterObject(o, fe);
        expect(fe.list).toEqual([]);
      }
    });
  }

  test("the CRD schemas refuse what tartan would refuse", () => {
    const bad: [Obj, RegExp][] = [
      [{ spec: { cidr: "10.0.0.0/33", blockSize: 26 } }, /\/spec\/cidr must match format "cidr"/],
      [{ spec: { cidr: "10.0.0.0/16", blockSize: 200 } }, /\/spec\/blockSize must be <= 128/],
      [{ spec: { cidr: "10.0.0.0/16", blockSize: "26" } }, /\/spec\/blockSize must be integer/],
      [{ spec: { cidr: "10.0.0.0/16" } }, /must have required property 'blockSize'/],
      [
        { spec: { cidr: "10.0.0.0/16", blockSize: 26, blocksize: 27 } },
        /must NOT have additional properties/,
      ],
    ];
    for (const [o, re] of bad) {
      expect(
        crErrors({ apiVersion: "tartan.dev/v1alpha1", kind: "IPPool", metadata: { name: "p" }, ...o })!.join(
          "; ",
        ),
      ).toMatch(re);
    }
    const block = { apiVersion: "tartan.dev/v1alpha1", kind: "IPAMBlock", metadata: { name: "b" } };
    expect(crErrors({ ...block, spec: { cidr: "10.0.0.0/26", pool: "p", node: "Node_1" } })!.join()).toMatch(
      /\/spec\/node must match pattern/,
    );
    const peer = { apiVersion: "tartan.dev/v1alpha1", kind: "BGPPeer", metadata: { name: "x" } };
    expect(crErrors({ ...peer, spec: { peerIP: "192.0.2.1", asNumber: 0 } })!.join()).toMatch(
      /asNumber must be >= 1/,
    );
    expect(crErrors({ ...peer, spec: { password: "has space" } })!.join()).toMatch(
      /password must match pattern/,
    );
    expect(
      crErrors({
        ...peer,
        spec: { peerSelector: { matchExpressions: [{ key: "a", operator: "Has" }] } },
      })!.join(),
    ).toMatch(/operator must be equal to one of the allowed values/);
  });
});

describe("the install's policy", () => {
  const ds = only("DaemonSet");
  const pod = ds.spec.template.spec;
  const agent = pod.containers.find((c: Obj) => c.name === "agent");
  const init = pod.initContainers.find((c: Obj) => c.name === "install-cni");
  const volumes = new Map<string, Obj>(pod.volumes.map((v: Obj) => [v.name, v]));
  const agentYaml = only("ConfigMap", "tartan-config").data["agent.yaml"] as string;

  test("DaemonSet: host network, node-critical, tolerates every taint, rolling update", () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe("ClusterFirstWithHostNet");
    expect(pod.priorityClassName).toBe("system-node-critical");
    // An empty key with operator Exists matches every taint, of every effect.
    expect(pod.tolerations).toContainEqual({ operator: "Exists" });
    expect(ds.spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } });
    expect(pod.serviceAccountName).toBe(only("ServiceAccount").metadata.name);
    expect(ds.spec.selector.matchLabels).toEqual(
      Object.fromEntries(
        Object.entries(ds.spec.template.metadata.labels).filter(([k]) => k in ds.spec.selector.matchLabels),
      ),
    );
  });

  test("the init container installs the plugin into the host's /opt/cni/bin, and mounts nothing else", () => {
    expect(init.command).toEqual(["/opt/tartan/tartan", "install", "--to", "/host/opt/cni/bin"]);
    expect(init.volumeMounts).toEqual([{ name: "cni-bin", mountPath: "/host/opt/cni/bin" }]);
    expect(init.image).toBe(agent.image);
  });

  test("host paths: each with its type, only those the agent needs, modules read-only", () => {
    const want: Record<string, [string, string]> = {
      "cni-bin": ["/opt/cni/bin", "DirectoryOrCreate"],
      "cni-net-dir": ["/etc/cni/net.d", "DirectoryOrCreate"],
      "run-tartan": ["/run/tartan", "DirectoryOrCreate"],
      "var-lib-tartan": ["/var/lib/tartan", "DirectoryOrCreate"],
      "xtables-lock": ["/run/xtables.lock", "FileOrCreate"],
      "lib-modules": ["/lib/modules", "Directory"],
    };
    const got = Object.fromEntries(
      [...volumes.values()]
        .filter((v) => v.hostPath)
        .map((v) => [v.name, [v.hostPath.path, v.hostPath.type]]),
    );
    expect(got).toEqual(want);
    for (const m of [...agent.volumeMounts, ...init.volumeMounts]) expect(volumes.has(m.name)).toBe(true);
    expect(agent.volumeMounts.find((m: Obj) => m.name === "lib-modules").readOnly).toBe(true);
    expect(agent.volumeMounts.find((m: Obj) => m.name === "config").readOnly).toBe(true);
  });

  test("the plugin on the host and the agent in its container see the same paths", () => {
    const c = parseYaml(agentYaml);
    const hostPathOf = (containerPath: string): string | undefined => {
      const m = agent.volumeMounts.find(
        (x: Obj) => containerPath === x.mountPath || containerPath.startsWith(`${x.mountPath}/`),
      );
      const hp = m && volumes.get(m.name)?.hostPath?.path;
      return hp && containerPath.replace(m.mountPath, hp);
    };
    // The conflist names the socket and the IPAM dir; the plugin reads them on the host.
    for (const p of [c.socket, c.ipamDataDir, c.cniConfig.file]) expect(hostPathOf(p)).toBe(p);
  });

  test("the ConfigMap's agent config is valid and writes its conflist once ready", () => {
    const c = parseYaml(agentYaml);
    expect(c.datastore).toEqual({ type: "kubernetes", inCluster: true, namespace: "tartan-system" });
    expect(c.nodeName).toBeUndefined();
    // As the agent reads it in the pod: the node name from NODE_NAME (downward API).
    const parsed = parseAgentConfig(agentYaml, "tartan-config agent.yaml", { NODE_NAME: "node-1" });
    expect(parsed.nodeName).toBe("node-1");
    expect(parsed.datastore).toEqual({ type: "kubernetes", namespace: "tartan-system" });
    expect(parsed.cniConfig).toEqual({
      file: "/etc/cni/net.d/10-tartan.conflist",
      mtu: 0,
      removeOnStop: true,
    });
    // The name sorts before other networks' configs: the runtime takes the first.
    expect(parsed.cniConfig!.file.split("/").at(-1)! < "20-").toBe(true);
    expect(agent.command).toEqual(["/opt/tartan/tartan", "agent", "--config", "/etc/tartan/agent.yaml"]);
    expect(agent.env).toContainEqual({
      name: "NODE_NAME",
      valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } },
    });
    expect(agent.volumeMounts.find((m: Obj) => m.name === "config").mountPath).toBe("/etc/tartan");
  });

  test("probes: readiness /readyz and liveness /livez on the agent's metrics listener", () => {
    const [host, port] = parseYaml(agentYaml).metricsAddress.split(":");
    expect(agent.readinessProbe.httpGet).toEqual({ host, port: Number(port), path: "/readyz" });
    expect(agent.livenessProbe.httpGet).toEqual({ host, port: Number(port), path: "/livez" });
  });

  test("RBAC: every rule within the reference table; no wildcard, no secrets, no writes to pods", () => {
    const all = [...rules("ClusterRole"), ...rules("Role")];
    expect(all.length).toBeGreaterThan(0);
    for (const { role, rule } of all) {
      for (const list of [rule.apiGroups, rule.resources, rule.verbs]) expect(list).not.toContain("*");
      for (const g of rule.apiGroups) {
        for (const r of rule.resources) {
          expect(`${role}: ${r}`).not.toMatch(/secrets|pods\/status|serviceaccounts/);
          const allowed = RBAC_TABLE[g]?.[r];
          expect(
            `${role}: ${g || "core"} ${r}: ${rule.verbs.filter((v: string) => !allowed?.includes(v)).join(",")}`,
          ).toBe(`${role}: ${g || "core"} ${r}: `);
        }
      }
    }
    // Leases are namespaced in tartan-system: only a Role may grant them, never the ClusterRole.
    expect(rules("ClusterRole").some(({ rule }) => rule.resources.includes("leases"))).toBe(false);
    // Leases only, and only in the Role's own namespace (tartan-system): no other kind there.
    for (const { rule } of rules("Role")) expect(rule.resources).toEqual(["leases"]);
    expect(ofKind("Role").map((r) => r.metadata.namespace)).toEqual(["tartan-system"]);
  });

  test("the policy check can fail: a wildcard or a secret is caught", () => {
    const within = (g: string, r: string, verbs: string[]) =>
      verbs.every((v) => RBAC_TABLE[g]?.[r]?.includes(v));
    expect(within("", "secrets", ["get"])).toBe(false);
    expect(within("", "pods", ["*"])).toBe(false);
    expect(within("", "pods", ["update"])).toBe(false);
    expect(within("", "pods", ["get", "watch"])).toBe(true);
  });

  test("bindings give the roles to the DaemonSet's service account", () => {
    const sa = only("ServiceAccount");
    for (const [b, kind] of [
      [only("ClusterRoleBinding"), "ClusterRole"],
      [only("RoleBinding"), "Role"],
    ] as const) {
      expect(b.roleRef).toEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind,
        name: only(kind).metadata.name,
      });
      expect(b.subjects).toEqual([
        { kind: "ServiceAccount", name: sa.metadata.name, namespace: sa.metadata.namespace },
      ]);
    }
  });
});
