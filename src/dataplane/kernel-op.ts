/**
 * One change to a network namespace's links, addresses or routes, as data. A list of these is
 * what callers hand to a Dataplane: the iproute2 driver renders them as one `ip -batch` run, the
 * netlink driver as rtnetlink requests (decision 0008), the fake kernel applies them to its
 * in-memory model. Addresses and routes are CIDR text.
 */
export type KernelOp =
  /** A veth pair; `peer` is created directly in `peerNetns` (a netns path) when given. */
  | {
      op: "veth-add";
      name: string;
      peer: string;
      peerNetns?: string;
      mtu: number;
      mac?: string;
      peerMac?: string;
    }
  /** A Linux bridge. Fails when a link with that name exists. */
  | { op: "bridge-add"; name: string; mtu?: number; mac?: string }
  /** Change a link's attributes; only the given fields change. `master: null` detaches. */
  | {
      op: "link-set";
      name: string;
      up?: boolean;
      mtu?: number;
      master?: string | null;
      /** Bridge port hairpin mode (the link must be a bridge port). */
      hairpin?: boolean;
    }
  /** Delete a link (deleting one end of a veth deletes both). Fails when it does not exist. */
  | { op: "link-del"; name: string }
  /** Add an address; `replace` makes it idempotent. `nodad` skips IPv6 duplicate address detection. */
  | { op: "addr-add"; dev: string; cidr: string; replace?: boolean; nodad?: boolean }
  | { op: "addr-del"; dev: string; cidr: string }
  /**
   * Add a route; `replace` makes it idempotent. `dst` may be "default" or a CIDR. `onlink`
   * trusts the gateway to be on the link `dev` without a route to it (VXLAN next hops).
   * `type: "blackhole"` drops matching packets and takes neither dev nor via.
   */
  | {
      op: "route-add";
      dst: string;
      family: 4 | 6;
      type?: RouteType;
      dev?: string;
      via?: string;
      onlink?: boolean;
      scope?: "global" | "link" | "host";
      proto?: number;
      metric?: number;
      mtu?: number;
      table?: number;
      src?: string;
      replace?: boolean;
      /**
       * Add beside an existing route to the same destination through another device or gateway
       * (`ip route append`, NLM_F_APPEND), as the reference plugins do, so a pod attached twice
       * (two interfaces, each with a default route) gets both. IPv4 keeps two routes (the first
       * wins), IPv6 makes them one multipath route.
       */
      append?: boolean;
    }
  /** A permanent neighbour (ARP/NDP) entry; replaces whatever entry the address had. */
  | { op: "neigh-replace"; dev: string; ip: string; mac: string }
  /** Removes a neighbour entry. Fails when it does not exist. */
  | { op: "neigh-del"; dev: string; ip: string }
  /**
   * A VXLAN device. Learning is off unless asked for: tartan programs every remote VTEP in the
   * FDB, and learned entries would compete with them. `dev` is the underlay link.
   */
  | {
      op: "vxlan-add";
      name: string;
      vni: number;
      dstport: number;
      local?: string;
      dev?: string;
      learning?: boolean;
      mtu?: number;
      mac?: string;
    }
  /** A static FDB entry on a VXLAN device (`self permanent`): frames to `mac` go to the VTEP `dst`. */
  | { op: "fdb-replace"; dev: string; mac: string; dst: string }
  /** Removes an FDB entry. Fails when it does not exist. */
  | { op: "fdb-del"; dev: string; mac: string; dst: string }
  | {
      op: "route-del";
      dst: string;
      family: 4 | 6;
      type?: RouteType;
      dev?: string;
      via?: string;
      proto?: number;
      table?: number;
    };

/** Route types tartan writes: ordinary routes, and blackholes that drop (unallocated block addresses). */
export type RouteType = "unicast" | "blackhole";

/** The VXLAN attributes of a link, as read back. */
export interface VxlanInfo {
  vni: number;
  dstport: number;
  local?: string;
  /** The underlay link. */
  dev?: string;
  learning: boolean;
}

/** A link as read back from the kernel. */
export interface LinkInfo {
  name: string;
  index: number;
  kind: string; // "veth", "bridge", "vxlan", "loopback", "" when unknown
  mtu: number;
  mac: string; // lower case, colon separated
  up: boolean;
  master?: string;
  /** Bridge ports only: whether hairpin mode is on (frames may leave by the port they came in). */
  hairpin?: boolean;
  /** VXLAN devices only. */
  vxlan?: VxlanInfo;
}

export interface AddrInfo {
  dev: string;
  cidr: string; // address with its prefix, canonical text
  family: 4 | 6;
  scope: "global" | "link" | "host";
}

export interface RouteInfo {
  dst: string; // "default" or canonical network CIDR
  family: 4 | 6;
  dev?: string;
  via?: string;
  scope: "global" | "link" | "host";
  proto: number;
  metric?: number;
  table: number;
  /** Present only for non-unicast routes; a blackhole has no dev or via. */
  type?: "blackhole";
  /** Present only when the route was added with onlink. */
  onlink?: true;
}

/** A permanent neighbour entry as read back. */
export interface NeighInfo {
  dev: string;
  ip: string; // canonical address text
  mac: string;
}

/** A static FDB entry of a VXLAN device as read back (learned and non-permanent ones are left out). */
export interface FdbInfo {
  dev: string;
  mac: string; // lower case
  dst: string; // canonical address text of the remote VTEP
}
