import type { AddrInfo, FdbInfo, LinkInfo, NeighInfo, RouteInfo } from "../kernel-op.ts";

/** A link in the fake kernel: what reads return, plus the wiring the kernel keeps internally. */
export interface FakeLink extends LinkInfo {
  /** The other end of a veth pair. */
  peer?: { netns: string | null; name: string };
  /** A bridge whose MTU was set by the user no longer follows its ports' MTU (BROPT_MTU_SET_BY_USER). */
  mtuByUser?: boolean;
}

export interface FakeRoute extends RouteInfo {
  src?: string;
  mtu?: number;
}

/** One network namespace of the fake kernel; plain data so a snapshot is a structuredClone. */
export interface FakeNetnsState {
  links: Map<string, FakeLink>;
  addrs: AddrInfo[];
  routes: FakeRoute[];
  neighs: NeighInfo[];
  fdb: FdbInfo[];
  sysctls: Map<string, string>;
  nextIndex: number;
}

const NS_SYSCTLS: ReadonlyArray<readonly [string, string]> = [
  ["net/ipv4/ip_forward", "0"],
  ["net/ipv4/conf/all/forwarding", "0"],
  ["net/ipv4/conf/default/forwarding", "0"],
  ["net/ipv4/conf/all/rp_filter", "0"],
  ["net/ipv4/conf/default/rp_filter", "0"],
  ["net/ipv4/conf/all/route_localnet", "0"],
  ["net/ipv6/conf/all/forwarding", "0"],
  ["net/ipv6/conf/default/forwarding", "0"],
  ["net/ipv6/conf/all/disable_ipv6", "0"],
  ["net/ipv6/conf/default/disable_ipv6", "0"],
];

const LINK_SYSCTLS: ReadonlyArray<readonly [string, string]> = [
  ["net/ipv4/conf/DEV/forwarding", "0"],
  ["net/ipv4/conf/DEV/rp_filter", "0"],
  ["net/ipv4/conf/DEV/proxy_arp", "0"],
  ["net/ipv4/conf/DEV/route_localnet", "0"],
  ["net/ipv4/conf/DEV/send_redirects", "1"],
  ["net/ipv6/conf/DEV/forwarding", "0"],
  ["net/ipv6/conf/DEV/disable_ipv6", "0"],
  ["net/ipv6/conf/DEV/accept_ra", "1"],
  ["net/ipv6/conf/DEV/accept_dad", "1"],
  ["net/ipv6/conf/DEV/proxy_ndp", "0"],
  ["net/ipv4/neigh/DEV/proxy_delay", "80"],
];

/** Per-device sysctls appear with the device and disappear with it, as in /proc/sys/net. */
export function addLinkSysctls(ns: FakeNetnsState, dev: string): void {
  // A new device inherits conf/default, like the kernel does.
  const forwarding = ns.sysctls.get("net/ipv4/conf/all/forwarding") ?? "0";
  for (const [k, v] of LINK_SYSCTLS) {
    ns.sysctls.set(k.replace("DEV", dev), k.endsWith("ipv4/conf/DEV/forwarding") ? forwarding : v);
  }
}

export function removeLinkSysctls(ns: FakeNetnsState, dev: string): void {
  for (const [k] of LINK_SYSCTLS) ns.sysctls.delete(k.replace("DEV", dev));
}

/**
 * A fresh namespace: only `lo`. The host one has lo up with its loopback addresses; a new netns
 * has lo down and no addresses, as after `ip netns add`.
 */
export function newNetnsState(host: boolean): FakeNetnsState {
  const ns: FakeNetnsState = {
    links: new Map(),
    addrs: [],
    routes: [],
    neighs: [],
    fdb: [],
    sysctls: new Map(NS_SYSCTLS),
    nextIndex: 2,
  };
  ns.links.set("lo", {
    name: "lo",
    index: 1,
    kind: "loopback",
    mtu: 65536,
    mac: "00:00:00:00:00:00",
    up: host,
  });
  addLinkSysctls(ns, "lo");
  if (host) {
    ns.addrs.push({ dev: "lo", cidr: "127.0.0.1/8", family: 4, scope: "host" });
    ns.addrs.push({ dev: "lo", cidr: "::1/128", family: 6, scope: "host" });
  }
  return ns;
}
