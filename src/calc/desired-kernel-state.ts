import type { RouteType } from "../dataplane/kernel-op.ts";

/** The VXLAN device a node needs: created with these attributes, recreated when one differs. */
export interface DesiredVxlan {
  name: string;
  vni: number;
  dstport: number;
  /** The local underlay address (the outer source). */
  local: string;
  /** The underlay link the device sends through. */
  dev: string;
  mtu: number;
  /** The local node's vtepMac: peers address their frames to it. */
  mac: string;
}

/** A main-table route; every one is written with tartan's route protocol (TARTAN_OWNED.routeProto). */
export interface DesiredRoute {
  dst: string; // canonical network CIDR
  family: 4 | 6;
  type: RouteType;
  via?: string;
  dev?: string;
  onlink?: boolean;
}

/** A permanent neighbour entry on the VXLAN device: next hop → remote VTEP MAC. */
export interface DesiredNeighbour {
  ip: string;
  mac: string;
}

/** A static FDB entry on the VXLAN device: remote VTEP MAC → remote underlay address. */
export interface DesiredFdb {
  mac: string;
  dst: string;
}

/**
 * Everything tartan wants in one node's kernel for host-to-host routing. Neighbours and FDB
 * entries live on `vxlan` and are empty when there is none. Anything tartan owns that is not
 * listed here gets removed by the reconciler.
 */
export interface DesiredState {
  vxlan?: DesiredVxlan;
  routes: DesiredRoute[];
  neighbours: DesiredNeighbour[];
  fdb: DesiredFdb[];
}
