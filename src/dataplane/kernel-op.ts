/**
 * One change to a network namespace's links, addresses or routes, as data. A list of these is
 * what callers hand to a Dataplane: the Linux driver renders them as one `ip -batch` run, the
 * fake kernel applies them to its in-memory model. Addresses and routes are CIDR text.
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
  /** Add a route; `replace` makes it idempotent. `dst` may be "default" or a CIDR. */
  | {
      op: "route-add";
      dst: string;
      family: 4 | 6;
      dev?: string;
      via?: string;
      scope?: "global" | "link" | "host";
      proto?: number;
      metric?: number;
      mtu?: number;
      table?: number;
      src?: string;
      replace?: boolean;
    }
  /** A permanent neighbour (ARP/NDP) entry; replaces whatever entry the address had. */
  | { op: "neigh-replace"; dev: string; ip: string; mac: string }
  /** Removes a neighbour entry. Fails when it does not exist. */
  | { op: "neigh-del"; dev: string; ip: string }
  | {
      op: "route-del";
      dst: string;
      family: 4 | 6;
      dev?: string;
      via?: string;
      proto?: number;
      table?: number;
    };

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
}

/** A permanent neighbour entry as read back. */
export interface NeighInfo {
  dev: string;
  ip: string; // canonical address text
  mac: string;
}
