import { ROUTE_REFLECTOR_LABEL } from "../model/bgp-resources.ts";

/** The cluster ID of the lab's route reflectors (`--route-reflectors N`: nodes 1..N, one cluster). */
export const LAB_RR_CLUSTER_ID = "244.0.0.1";

export interface LabBgpObjectsInput {
  routeReflectors?: number;
  tor?: { peerIP: string; asNumber: number; password?: string };
}

/**
 * The BGP objects `lab up` applies before the agents start (pure): with route reflectors, the
 * mesh off and every node peering with the reflectors (Calico's layout: `peerSelector` on the
 * reflector label; the reflectors' own sessions to each other are plain iBGP in one cluster);
 * with a ToR, one global BGPPeer (neither `node` nor `nodeSelector`: every node) to it.
 * Empty when neither is asked for: the defaults (full mesh, AS 64512) need no object.
 */
export function labBgpObjects(i: LabBgpObjectsInput): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const meta = (name: string) => ({ name });
  if (i.routeReflectors && i.routeReflectors > 0) {
    out.push({
      apiVersion: "tartan.dev/v1alpha1",
      kind: "BGPConfiguration",
      metadata: meta("default"),
      spec: { nodeToNodeMeshEnabled: false },
    });
    out.push({
      apiVersion: "tartan.dev/v1alpha1",
      kind: "BGPPeer",
      metadata: meta("peer-with-route-reflectors"),
      spec: { peerSelector: { matchExpressions: [{ key: ROUTE_REFLECTOR_LABEL, operator: "Exists" }] } },
    });
  }
  if (i.tor) {
    out.push({
      apiVersion: "tartan.dev/v1alpha1",
      kind: "BGPPeer",
      metadata: meta("tor"),
      spec: {
        peerIP: i.tor.peerIP,
        asNumber: i.tor.asNumber,
        ...(i.tor.password ? { password: i.tor.password } : {}),
      },
    });
  }
  return out;
}
