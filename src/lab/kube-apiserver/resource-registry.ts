import { type ApiResource, BUILT_IN_RESOURCES, groupVersion } from "./api-resource.ts";

/** What the registry reads from a stored CustomResourceDefinition. */
export interface CrdObject {
  metadata: { name: string };
  spec: {
    group: string;
    scope: "Namespaced" | "Cluster";
    names: { plural: string; singular?: string; kind: string; shortNames?: string[]; categories?: string[] };
    versions: { name: string; served: boolean; storage?: boolean; subresources?: { status?: object } }[];
  };
}

/** The resources a CRD defines: one per served version. */
export function crdResources(crd: CrdObject): ApiResource[] {
  const { group, names, scope, versions } = crd.spec;
  return (versions ?? [])
    .filter((v) => v.served)
    .map((v) => ({
      group,
      version: v.name,
      resource: names.plural,
      singular: names.singular ?? names.kind.toLowerCase(),
      kind: names.kind,
      namespaced: scope === "Namespaced",
      shortNames: names.shortNames ?? [],
      status: v.subresources?.status !== undefined,
      custom: true,
      fields: [],
      etcdPrefix: `/registry/${group}/${names.plural}`,
      ...(names.categories ? { categories: names.categories } : {}),
    }));
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/**
 * The kinds served right now: the built-in table plus every CustomResourceDefinition stored
 * (kept current by the server on every CRD write and at start-up). Builds the discovery documents
 * kubectl reads: /api, /apis, /api/v1, /apis/<group>/<version>.
 */
export class ResourceRegistry {
  private custom = new Map<string, ApiResource[]>();

  setCrd(crd: CrdObject): void {
    this.custom.set(crd.metadata.name, crdResources(crd));
  }

  removeCrd(name: string): void {
    this.custom.delete(name);
  }

  all(): ApiResource[] {
    return [...BUILT_IN_RESOURCES, ...[...this.custom.values()].flat()];
  }

  find(group: string, version: string, resource: string): ApiResource | undefined {
    return this.all().find((r) => r.group === group && r.version === version && r.resource === resource);
  }

  /** Groups with their versions, core first, in first-seen order. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.all()) {
      const vs = out.get(r.group) ?? [];
      if (!vs.includes(r.version)) vs.push(r.version);
      out.set(r.group, vs);
    }
    return out;
  }

  apiVersions(serverAddress: string): object {
    return {
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
    };
  }

  private group(name: string, versions: string[]): object {
    const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
    return { name, versions: vs, preferredVersion: vs[0] };
  }

  apiGroupList(): object {
    const groups = [...this.groups()].filter(([g]) => g !== "").map(([g, vs]) => this.group(g, vs));
    return { kind: "APIGroupList", apiVersion: "v1", groups };
  }

  apiGroup(name: string): object | undefined {
    const vs = this.groups().get(name);
    return vs && name !== "" ? { kind: "APIGroup", apiVersion: "v1", ...this.group(name, vs) } : undefined;
  }

  apiResourceList(group: string, version: string): object | undefined {
    const rs = this.all().filter((r) => r.group === group && r.version === version);
    if (rs.length === 0) return undefined;
    const resources = rs.flatMap((r) => [
      {
        name: r.resource,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: VERBS,
        ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
        ...(r.categories ? { categories: r.categories } : {}),
      },
      ...(r.status
        ? [
            {
              name: `${r.resource}/status`,
              singularName: "",
              namespaced: r.namespaced,
              kind: r.kind,
              verbs: ["get", "patch", "update"],
            },
          ]
        : []),
    ]);
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: groupVersion({ group, version }),
      resources,
    };
  }
}
