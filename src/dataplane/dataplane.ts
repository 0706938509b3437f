import type { AddrInfo, FdbInfo, KernelOp, LinkInfo, NeighInfo, RouteInfo } from "./kernel-op.ts";

/**
 * A network namespace is named by its path (/run/netns/x, /proc/PID/ns/net), or `null` for the
 * namespace the process runs in (the host side of a CNI call).
 */
export type NetnsRef = string | null;

/** How an apply may run its ops. */
export interface ApplyOptions {
  /**
   * The caller does not rely on the ops after a refused one staying unapplied (the agent's
   * reconciler: it reads the kernel back after any failure). A driver may then send several
   * requests at once, and the kernel runs all of them; the error still names the first refused
   * op. Without it (the default), nothing after the first refusal is applied.
   */
  independent?: boolean;
}

/**
 * The port through which everything above programs and reads links, addresses and routes.
 * Implemented by dataplane/linux (iproute2; rtnetlink through bun:ffi for the plugin) and
 * dataplane/fake (in memory); the contract tests in test/unit and test/integration hold them all
 * to the same behaviour.
 */
export interface Dataplane {
  /**
   * Applies the ops in order and stops at the first failure, which it throws (TartanError); with
   * `independent`, ops after the refused one may have been applied too (see ApplyOptions).
   */
  apply(netns: NetnsRef, ops: readonly KernelOp[], opts?: ApplyOptions): Promise<void>;
  links(netns: NetnsRef): Promise<LinkInfo[]>;
  /** One link, or undefined when it does not exist. */
  link(netns: NetnsRef, name: string): Promise<LinkInfo | undefined>;
  addrs(netns: NetnsRef, dev?: string): Promise<AddrInfo[]>;
  /**
   * Main-table unicast and blackhole routes of one family (link-local IPv6 kernel routes and
   * local/broadcast/multicast ones excluded).
   */
  routes(netns: NetnsRef, family: 4 | 6): Promise<RouteInfo[]>;
  /** Permanent neighbour entries (the ones tartan writes); dynamic ones are left out. */
  neighbours(netns: NetnsRef): Promise<NeighInfo[]>;
  /** Static (permanent, with a remote) FDB entries of a VXLAN device; [] when the device does not exist. */
  fdb(netns: NetnsRef, dev: string): Promise<FdbInfo[]>;
  /** Reads a sysctl of the namespace, e.g. "net/ipv4/ip_forward"; undefined when it does not exist. */
  sysctlGet(netns: NetnsRef, key: string): Promise<string | undefined>;
  sysctlSet(netns: NetnsRef, key: string, value: string): Promise<void>;
  /** True when the path names an existing network namespace. */
  netnsExists(path: string): Promise<boolean>;
}
