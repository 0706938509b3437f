/** One kind of object the stand-in API server serves (a row of its discovery documents). */
export interface ApiResource {
  /** "" for the core group (served under /api/v1). */
  group: string;
  version: string;
  /** The plural, lower case: the URL segment and the etcd key segment. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Has a `status` subresource: the main endpoint keeps `.status`, `/status` changes only it. */
  status: boolean;
  /** Defined by a CustomResourceDefinition: PUT needs a resourceVersion, no strategic merge patch. */
  custom: boolean;
  /** Field selectors it accepts besides metadata.name and metadata.namespace. */
  fields: string[];
  /** etcd key prefix, without the trailing slash (kube-apiserver's layout). */
  etcdPrefix: string;
  categories?: string[];
}

export const groupVersion = (r: { group: string; version: string }): string =>
  r.group ? `${r.group}/${r.version}` : r.version;

type BuiltIn = Pick<ApiResource, "group" | "version" | "resource" | "kind" | "namespaced"> &
  Partial<Pick<ApiResource, "shortNames" | "status" | "fields" | "etcdPrefix" | "categories">>;

const BUILT_IN: BuiltIn[] = [
  {
    group: "",
    version: "v1",
    resource: "namespaces",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
    status: true,
    fields: ["status.phase"],
  },
  {
    group: "",
    version: "v1",
    resource: "pods",
    kind: "Pod",
    namespaced: true,
    shortNames: ["po"],
    status: true,
    fields: [
      "spec.nodeName",
      "spec.hostNetwork",
      "spec.restartPolicy",
      "spec.schedulerName",
      "spec.serviceAccountName",
      "status.phase",
      "status.podIP",
      "status.nominatedNodeName",
    ],
    categories: ["all"],
  },
  // kube-apiserver still keeps Nodes under their old name.
  {
    group: "",
    version: "v1",
    resource: "nodes",
    kind: "Node",
    namespaced: false,
    shortNames: ["no"],
    status: true,
    fields: ["spec.unschedulable"],
    etcdPrefix: "/registry/minions",
  },
  {
    group: "",
    version: "v1",
    resource: "configmaps",
    kind: "ConfigMap",
    namespaced: true,
    shortNames: ["cm"],
  },
  { group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true, fields: ["type"] },
  {
    group: "",
    version: "v1",
    resource: "serviceaccounts",
    kind: "ServiceAccount",
    namespaced: true,
    shortNames: ["sa"],
  },
  {
    group: "",
    version: "v1",
    resource: "services",
    kind: "Service",
    namespaced: true,
    shortNames: ["svc"],
    status: true,
    etcdPrefix: "/registry/services/specs",
    categories: ["all"],
  },
  { group: "", version: "v1", resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"] },
  {
    group: "apps",
    version: "v1",
    resource: "daemonsets",
    kind: "DaemonSet",
    namespaced: true,
    shortNames: ["ds"],
    status: true,
    categories: ["all"],
  },
  {
    group: "apps",
    version: "v1",
    resource: "deployments",
    kind: "Deployment",
    namespaced: true,
    shortNames: ["deploy"],
    status: true,
    categories: ["all"],
  },
  {
    group: "networking.k8s.io",
    version: "v1",
    resource: "networkpolicies",
    kind: "NetworkPolicy",
    namespaced: true,
    shortNames: ["netpol"],
  },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    resource: "clusterroles",
    kind: "ClusterRole",
    namespaced: false,
  },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    resource: "clusterrolebindings",
    kind: "ClusterRoleBinding",
    namespaced: false,
  },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", kind: "Role", namespaced: true },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    resource: "rolebindings",
    kind: "RoleBinding",
    namespaced: true,
  },
  { group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true },
  {
    group: "scheduling.k8s.io",
    version: "v1",
    resource: "priorityclasses",
    kind: "PriorityClass",
    namespaced: false,
    shortNames: ["pc"],
  },
  {
    group: "apiextensions.k8s.io",
    version: "v1",
    resource: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    namespaced: false,
    shortNames: ["crd", "crds"],
    status: true,
    etcdPrefix: "/registry/apiextensions.k8s.io/customresourcedefinitions",
  },
];

/** The built-in kinds the stand-in serves (what Tartan, its manifests and kubectl's tests use). */
export const BUILT_IN_RESOURCES: readonly ApiResource[] = BUILT_IN.map((b) => ({
  ...b,
  singular: b.kind.toLowerCase(),
  shortNames: b.shortNames ?? [],
  status: b.status ?? false,
  custom: false,
  fields: b.fields ?? [],
  etcdPrefix: b.etcdPrefix ?? `/registry/${b.resource}`,
}));

export const CRD_RESOURCE = BUILT_IN_RESOURCES.find((r) => r.resource === "customresourcedefinitions")!;
export const NAMESPACE_RESOURCE = BUILT_IN_RESOURCES.find((r) => r.resource === "namespaces")!;
