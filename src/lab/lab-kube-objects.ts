import type { KubeObject } from "./kube-apiserver/object-store.ts";

/** The namespace where the agents keep their namespaced objects (the node-reclaimer Lease). */
export const TARTAN_SYSTEM_NAMESPACE = "tartan-system";

/**
 * A cluster-scoped CustomResourceDefinition of the tartan.dev group, version v1alpha1 with a
 * status subresource, validating with `schema` (the lab's own below; tests serve permissive ones).
 */
export function tartanCrd(
  plural: string,
  kind: string,
  schema: Record<string, unknown>,
  shortNames: string[] = [],
): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.tartan.dev` },
    spec: {
      group: "tartan.dev",
      scope: "Cluster",
      names: {
        plural,
        singular: kind.toLowerCase(),
        kind,
        listKind: `${kind}List`,
        ...(shortNames.length ? { shortNames } : {}),
      },
      versions: [
        {
          name: "v1alpha1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}

function crd(
  plural: string,
  kind: string,
  shortName: string,
  spec: Record<string, unknown>,
  required: string[],
): KubeObject {
  return tartanCrd(
    plural,
    kind,
    {
      type: "object",
      properties: {
        spec: { type: "object", required, properties: spec },
        status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
    },
    [shortName],
  );
}

/**
 * What a cluster has before Tartan's agents start, made by the lab's API server at start-up:
 * Tartan's CRDs (IPPool, IPAMBlock; the full ones with printer columns are in deploy/) and the
 * tartan-system namespace.
 */
export function labKubeBootstrap(): KubeObject[] {
  return [
    crd(
      "ippools",
      "IPPool",
      "ttpool",
      {
        cidr: { type: "string" },
        blockSize: { type: "integer", minimum: 0, maximum: 128 },
        natOutgoing: { type: "boolean" },
      },
      ["cidr", "blockSize"],
    ),
    crd(
      "ipamblocks",
      "IPAMBlock",
      "ttblock",
      { cidr: { type: "string" }, pool: { type: "string" }, node: { type: "string" } },
      ["cidr", "pool", "node"],
    ),
    { apiVersion: "v1", kind: "Namespace", metadata: { name: TARTAN_SYSTEM_NAMESPACE } },
  ];
}
