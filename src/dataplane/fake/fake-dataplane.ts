import { TartanError } from "../../errors/tartan-error.ts";
import { formatCidr, formatNetwork, parseCidr, parseIpOrCidr } from "../../model/cidr.ts";
import { formatIp, ipEquals, parseIp } from "../../model/ip.ts";
import type { Dataplane, NetnsRef } from "../dataplane.ts";
import type { AddrInfo, FdbInfo, KernelOp, LinkInfo, NeighInfo, RouteInfo } from "../kernel-op.ts";
import { kernelOpError } from "../kernel-op-error.ts";
import { sysctlKey } from "../sysctl-key.ts";
import { validateKernelOp } from "../validate-kernel-op.ts";
import {
  addLinkSysctls,
  type FakeLink,
  type FakeNetnsState,
  type FakeRoute,
  newNetnsState,
  removeLinkSysctls,
} from "./fake-netns-state.ts";
import {
  addConnectedRoutes,
  dropConnectedRoute,
  MAIN_TABLE,
  onLinkDevice,
  sameRouteKey,
} from "./fake-routing.ts";
import { KernelRefusal } from "./kernel-refusal.ts";

type Op<K extends KernelOp["op"]> = Extract<KernelOp, { op: K }>;

/** An injected failure: the next op matching `match` fails with `message` (kernel's words). */
interface Injection {
  match: (op: KernelOp, netns: NetnsRef) => boolean;
  message: string;
}

const RTPROT_BOOT = 3;

function addrScope(cidr: string): AddrInfo["scope"] {
  const ip = parseCidr(cidr).ip;
  if (ip.family === 4) return ip.value >> 24n === 127n ? "host" : "global";
  if (ip.value === 1n) return "host";
  return ip.value >> 118n === 0x3fan ? "link" : "global";
}

function canonicalDst(dst: string): string {
  if (dst === "default") return "default";
  const c = parseIpOrCidr(dst);
  if (formatNetwork(c) !== formatCidr(c)) throw new KernelRefusal("Invalid prefix for given prefix length");
  return c.prefix === 0 ? "default" : formatCidr(c);
}

/**
 * An in-memory kernel with several network namespaces (null = host, plus registered paths) that
 * behaves like Linux for the KernelOps: unique names per netns, veth pairs across namespaces,
 * bridge ports, connected routes following addresses and link state, gateway reachability,
 * EEXIST/ENOENT-style refusals. Each op applies wholly or not at all; apply() stops at the first
 * failure like `ip -batch`. Tests can inject failures and count writes.
 */
export class FakeDataplane implements Dataplane {
  private nss = new Map<NetnsRef, FakeNetnsState>([[null, newNetnsState(true)]]);
  private injections: Injection[] = [];
  private macCounter = 0;
  /** Every op applied successfully, in order, with its namespace. */
  readonly applied: { netns: NetnsRef; op: KernelOp }[] = [];
  /** Number of apply() calls that carried at least one op. */
  applyCalls = 0;
  /** Number of sysctlSet() calls. */
  sysctlWrites = 0;

  /** Registers a namespace path (like `ip netns add`); it starts with lo down, like the kernel. */
  addNetns(path: string): void {
    if (!this.nss.has(path)) this.nss.set(path, newNetnsState(false));
  }

  /** Destroys a namespace: its veths go, and with them their peers in other namespaces. */
  removeNetns(path: string): void {
    const ns = this.nss.get(path);
    if (!ns) return;
    for (const link of ns.links.values()) {
      if (link.peer && link.peer.netns !== path) this.deleteLink(link.peer.netns, link.peer.name);
    }
    this.nss.delete(path);
  }

  /** Makes the next op for which `match` is true fail with `message`, once (after earlier ops applied). */
  failNext(match: (op: KernelOp, netns: NetnsRef) => boolean, message = "Injected failure"): void {
    this.injections.push({ match, message });
  }

  /** Defines or overrides a sysctl in a namespace (keys the fake does not know by default). */
  defineSysctl(netns: NetnsRef, key: string, value: string): void {
    this.ns(netns).sysctls.set(sysctlKey(key), value);
  }

  /** Total ops applied and sysctls written: "applying the same state twice writes nothing". */
  get writes(): number {
    return this.applied.length + this.sysctlWrites;
  }

  resetCounters(): void {
    this.applied.length = 0;
    this.applyCalls = 0;
    this.sysctlWrites = 0;
  }

  private ns(netns: NetnsRef): FakeNetnsState {
    const ns = this.nss.get(netns);
    if (!ns) {
      throw new TartanError(
        "netns-missing",
        `Cannot open network namespace "${netns}": No such file or directory`,
        "the target network namespace does not exist (the container may have exited)",
      );
    }
    return ns;
  }

  async apply(netns: NetnsRef, ops: readonly KernelOp[]): Promise<void> {
    for (const op of ops) validateKernelOp(op);
    this.ns(netns);
    if (ops.length > 0) this.applyCalls++;
    for (const [i, op] of ops.entries()) {
      const inj = this.injections.findIndex((x) => x.match(op, netns));
      if (inj >= 0) {
        const message = this.injections[inj]!.message;
        this.injections.splice(inj, 1);
        throw kernelOpError(netns, op, i, ops.length, message);
      }
      const snapshot = structuredClone(this.nss);
      try {
        this.applyOne(netns, op);
      } catch (e) {
        this.nss = snapshot;
        if (e instanceof KernelRefusal) throw kernelOpError(netns, op, i, ops.length, e.words);
        throw e;
      }
      this.applied.push({ netns, op });
    }
  }

  private applyOne(netns: NetnsRef, op: KernelOp): void {
    switch (op.op) {
      case "veth-add":
        this.vethAdd(netns, op);
        break;
      case "bridge-add":
        this.bridgeAdd(netns, op);
        break;
      case "link-set":
        this.linkSet(netns, op);
        break;
      case "link-del":
        this.must(netns, op.name);
        this.deleteLink(netns, op.name);
        break;
      case "addr-add":
        this.addrAdd(netns, op);
        break;
      case "addr-del":
        this.addrDel(netns, op);
        break;
      case "route-add":
        this.routeAdd(netns, op);
        break;
      case "route-del":
        this.routeDel(netns, op);
        break;
      case "neigh-replace": {
        this.must(netns, op.dev);
        const ns = this.ns(netns);
        const ip = formatIp(parseIp(op.ip));
        ns.neighs = ns.neighs.filter((n) => !(n.dev === op.dev && n.ip === ip));
        ns.neighs.push({ dev: op.dev, ip, mac: op.mac.toLowerCase() });
        break;
      }
      case "vxlan-add":
        this.vxlanAdd(netns, op);
        break;
      case "fdb-replace": {
        this.must(netns, op.dev);
        const ns = this.ns(netns);
        const mac = op.mac.toLowerCase();
        ns.fdb = ns.fdb.filter((f) => !(f.dev === op.dev && f.mac === mac));
        ns.fdb.push({ dev: op.dev, mac, dst: formatIp(parseIp(op.dst)) });
        break;
      }
      case "fdb-del": {
        this.must(netns, op.dev);
        const ns = this.ns(netns);
        const mac = op.mac.toLowerCase();
        const dst = formatIp(parseIp(op.dst));
        const i = ns.fdb.findIndex((f) => f.dev === op.dev && f.mac === mac && f.dst === dst);
        if (i < 0) throw new KernelRefusal("No such file or directory");
        ns.fdb.splice(i, 1);
        break;
      }
      case "neigh-del": {
        this.must(netns, op.dev);
        const ns = this.ns(netns);
        const ip = formatIp(parseIp(op.ip));
        const before = ns.neighs.length;
        ns.neighs = ns.neighs.filter((n) => !(n.dev === op.dev && n.ip === ip));
        if (ns.neighs.length === before) throw new KernelRefusal("No such file or directory");
        break;
      }
    }
  }

  private must(netns: NetnsRef, name: string): FakeLink {
    const link = this.ns(netns).links.get(name);
    if (!link) throw new KernelRefusal(`Cannot find device "${name}"`);
    return link;
  }

  private newMac(): string {
    this.macCounter++;
    const b = [
      0x02,
      0x7a,
      (this.macCounter >> 16) & 255,
      (this.macCounter >> 8) & 255,
      this.macCounter & 255,
      0x01,
    ];
    return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
  }

  private createLink(netns: NetnsRef, link: Omit<FakeLink, "index">): void {
    const ns = this.ns(netns);
    ns.links.set(link.name, { ...link, index: ns.nextIndex++ });
    addLinkSysctls(ns, link.name);
  }

  private vethAdd(netns: NetnsRef, op: Op<"veth-add">): void {
    const peerNetns = op.peerNetns ?? netns;
    if (!this.nss.has(peerNetns))
      throw new KernelRefusal(`argument "${peerNetns}" is wrong: Invalid "netns" value`);
    const here = this.ns(netns);
    if (here.links.has(op.name) || this.ns(peerNetns).links.has(op.peer))
      throw new KernelRefusal("File exists");
    if (peerNetns === netns && op.name === op.peer) throw new KernelRefusal("File exists");
    const base = { kind: "veth", mtu: op.mtu, up: false };
    this.createLink(netns, {
      ...base,
      name: op.name,
      mac: op.mac?.toLowerCase() ?? this.newMac(),
      peer: { netns: peerNetns, name: op.peer },
    });
    this.createLink(peerNetns, {
      ...base,
      name: op.peer,
      mac: op.peerMac?.toLowerCase() ?? this.newMac(),
      peer: { netns, name: op.name },
    });
  }

  private bridgeAdd(netns: NetnsRef, op: Op<"bridge-add">): void {
    if (this.ns(netns).links.has(op.name)) throw new KernelRefusal("File exists");
    this.createLink(netns, {
      name: op.name,
      kind: "bridge",
      mtu: op.mtu ?? 1500,
      mac: op.mac?.toLowerCase() ?? this.newMac(),
      up: false,
    });
  }

  private vxlanAdd(netns: NetnsRef, op: Op<"vxlan-add">): void {
    const ns = this.ns(netns);
    if (ns.links.has(op.name)) throw new KernelRefusal("File exists");
    const lower = op.dev === undefined ? undefined : this.must(netns, op.dev);
    const clash = [...ns.links.values()].some(
      (l) => l.vxlan?.vni === op.vni && l.vxlan.dstport === op.dstport,
    );
    if (clash) throw new KernelRefusal("A VXLAN device with the specified VNI already exists");
    const local = op.local === undefined ? undefined : formatIp(parseIp(op.local));
    const link: Omit<FakeLink, "index"> = {
      name: op.name,
      kind: "vxlan",
      // Without an MTU the kernel leaves room for the outer headers of the lower device.
      mtu: op.mtu ?? (lower ? lower.mtu - (local?.includes(":") ? 70 : 50) : 1500),
      mac: op.mac?.toLowerCase() ?? this.newMac(),
      up: false,
      vxlan: { vni: op.vni, dstport: op.dstport, learning: op.learning ?? false },
    };
    if (local !== undefined) link.vxlan!.local = local;
    if (op.dev !== undefined) link.vxlan!.dev = op.dev;
    this.createLink(netns, link);
  }

  /** A bridge whose MTU the user did not set follows the smallest MTU of its ports. */
  private adjustBridgeMtu(netns: NetnsRef, bridge: string | undefined): void {
    const br = bridge === undefined ? undefined : this.ns(netns).links.get(bridge);
    if (br?.kind !== "bridge" || br.mtuByUser) return;
    const ports = [...this.ns(netns).links.values()].filter((l) => l.master === br.name);
    if (ports.length > 0) br.mtu = Math.min(...ports.map((p) => p.mtu));
  }

  private linkSet(netns: NetnsRef, op: Op<"link-set">): void {
    const link = this.must(netns, op.name);
    if (op.mtu !== undefined) {
      link.mtu = op.mtu;
      if (link.kind === "bridge") link.mtuByUser = true;
      this.adjustBridgeMtu(netns, link.master);
    }
    if (op.master === null) {
      const old = link.master;
      delete link.master;
      delete link.hairpin;
      this.adjustBridgeMtu(netns, old);
    } else if (op.master !== undefined) {
      const master = this.ns(netns).links.get(op.master);
      if (!master) throw new KernelRefusal(`argument "${op.master}" is wrong: Device does not exist`);
      if (master.kind !== "bridge" || master.name === link.name)
        throw new KernelRefusal("Operation not supported");
      if (link.master !== op.master) link.hairpin = false;
      link.master = op.master;
      this.adjustBridgeMtu(netns, op.master);
    }
    if (op.hairpin !== undefined) {
      if (link.master === undefined) throw new KernelRefusal("Operation not supported");
      link.hairpin = op.hairpin;
    }
    if (op.up === true && !link.up) {
      link.up = true;
      addConnectedRoutes(this.ns(netns), link.name);
    } else if (op.up === false && link.up) {
      link.up = false;
      // The kernel flushes IPv4 routes through a down device, and (keep_addr_on_down=0) its
      // IPv6 addresses with their routes.
      const ns = this.ns(netns);
      ns.routes = ns.routes.filter((r) => r.dev !== link.name);
      ns.addrs = ns.addrs.filter((a) => a.dev !== link.name || a.family === 4);
    }
  }

  private deleteLink(netns: NetnsRef, name: string): void {
    const ns = this.nss.get(netns);
    const link = ns?.links.get(name);
    if (!ns || !link) return;
    ns.links.delete(name);
    removeLinkSysctls(ns, name);
    ns.addrs = ns.addrs.filter((a) => a.dev !== name);
    ns.routes = ns.routes.filter((r) => r.dev !== name);
    ns.neighs = ns.neighs.filter((n) => n.dev !== name);
    ns.fdb = ns.fdb.filter((f) => f.dev !== name);
    for (const port of ns.links.values()) {
      if (port.master === name) {
        delete port.master;
        delete port.hairpin;
      }
    }
    this.adjustBridgeMtu(netns, link.master);
    if (link.peer) this.deleteLink(link.peer.netns, link.peer.name);
  }

  private addrAdd(netns: NetnsRef, op: Op<"addr-add">): void {
    const link = this.must(netns, op.dev);
    const ns = this.ns(netns);
    const c = parseCidr(op.cidr);
    const cidr = formatCidr(c);
    const family = c.ip.family;
    // IPv4 tells addresses apart by address and prefix, IPv6 by address alone.
    const existing = ns.addrs.find(
      (a) =>
        a.dev === op.dev &&
        a.family === family &&
        (family === 4 ? a.cidr === cidr : ipEquals(parseCidr(a.cidr).ip, c.ip)),
    );
    if (existing && !op.replace) {
      throw new KernelRefusal(
        family === 4 ? "ipv4: Address already assigned" : "ipv6: address already assigned",
      );
    }
    if (existing) {
      if (existing.cidr === cidr) return;
      ns.addrs = ns.addrs.filter((a) => a !== existing);
      dropConnectedRoute(ns, existing);
    }
    ns.addrs.push({ dev: op.dev, cidr, family, scope: addrScope(cidr) });
    if (link.up) addConnectedRoutes(ns, op.dev);
  }

  private addrDel(netns: NetnsRef, op: Op<"addr-del">): void {
    this.must(netns, op.dev);
    const ns = this.ns(netns);
    const cidr = formatCidr(parseCidr(op.cidr));
    const addr = ns.addrs.find((a) => a.dev === op.dev && a.cidr === cidr);
    if (!addr) {
      throw new KernelRefusal(
        parseCidr(cidr).ip.family === 4 ? "ipv4: Address not found" : "ipv6: address not found",
      );
    }
    ns.addrs = ns.addrs.filter((a) => a !== addr);
    dropConnectedRoute(ns, addr);
    const local = parseCidr(cidr).ip;
    ns.routes = ns.routes.filter((r) => r.src === undefined || !ipEquals(parseIp(r.src), local));
    // The last IPv4 address gone disables IPv4 on the device: its routes go too.
    if (addr.family === 4 && !ns.addrs.some((a) => a.dev === op.dev && a.family === 4)) {
      ns.routes = ns.routes.filter((r) => r.dev !== op.dev || r.family !== 4);
    }
  }

  private routeAdd(netns: NetnsRef, op: Op<"route-add">): void {
    const ns = this.ns(netns);
    if (op.type === "blackhole") {
      this.putRoute(ns, op, {
        dst: canonicalDst(op.dst),
        family: op.family,
        scope: "global",
        proto: op.proto ?? RTPROT_BOOT,
        table: op.table ?? MAIN_TABLE,
        type: "blackhole",
      });
      return;
    }
    let dev = op.dev;
    if (dev !== undefined && !this.must(netns, dev).up) {
      throw new KernelRefusal(op.family === 4 ? "Device for nexthop is not up" : "Nexthop device is not up");
    }
    const dst = canonicalDst(op.dst);
    let via: string | undefined;
    if (op.via !== undefined) {
      const gw = parseIp(op.via);
      via = formatIp(gw);
      const linkLocal6 = gw.family === 6 && gw.value >> 118n === 0x3fan;
      if (linkLocal6 && dev === undefined) throw new KernelRefusal("Egress device not specified");
      const local = ns.addrs.some((a) => ipEquals(parseCidr(a.cidr).ip, gw));
      // onlink trusts the caller that the gateway is on the link, unless it is our own address.
      if (op.onlink && local) throw new KernelRefusal("Nexthop has invalid gateway");
      if (!linkLocal6 && !op.onlink) {
        dev = onLinkDevice(ns, via, dev);
        if (dev === undefined) {
          throw new KernelRefusal(op.family === 4 ? "Nexthop has invalid gateway" : "No route to host");
        }
      }
    }
    if (op.src !== undefined && !ns.addrs.some((a) => ipEquals(parseCidr(a.cidr).ip, parseIp(op.src!)))) {
      throw new KernelRefusal("Invalid prefsrc address");
    }
    const route: FakeRoute = {
      dst,
      family: op.family,
      // ip defaults gateway-less IPv4 routes to scope link; IPv6 routes have no scope.
      scope: op.family === 6 ? "global" : (op.scope ?? (via === undefined ? "link" : "global")),
      proto: op.proto ?? RTPROT_BOOT,
      table: op.table ?? MAIN_TABLE,
    };
    if (dev !== undefined) route.dev = dev;
    if (via !== undefined) route.via = via;
    if (op.src !== undefined) route.src = formatIp(parseIp(op.src));
    if (op.mtu !== undefined) route.mtu = op.mtu;
    if (op.onlink) route.onlink = true;
    this.putRoute(ns, op, route);
  }

  /** Adds a route, or replaces the one with the same key when asked to (EEXIST otherwise). */
  private putRoute(ns: FakeNetnsState, op: Op<"route-add">, route: FakeRoute): void {
    const metric = op.family === 6 ? op.metric || 1024 : op.metric || undefined;
    if (metric !== undefined) route.metric = metric;
    const clash = ns.routes.findIndex((r) => sameRouteKey(r, route));
    if (clash >= 0 && op.append && !op.replace) {
      // Like the kernel: a second next hop for the same key is fine, the same one again is not.
      const same = ns.routes.some(
        (r) => sameRouteKey(r, route) && r.dev === route.dev && r.via === route.via,
      );
      if (same) throw new KernelRefusal("File exists");
      ns.routes.push(route);
      return;
    }
    if (clash >= 0 && !op.replace) throw new KernelRefusal("File exists");
    if (clash >= 0) ns.routes[clash] = route;
    else ns.routes.push(route);
  }

  private routeDel(netns: NetnsRef, op: Op<"route-del">): void {
    const ns = this.ns(netns);
    const dst = canonicalDst(op.dst);
    const via = op.via === undefined ? undefined : formatIp(parseIp(op.via));
    const i = ns.routes.findIndex(
      (r) =>
        r.family === op.family &&
        r.dst === dst &&
        r.table === (op.table ?? MAIN_TABLE) &&
        (op.dev === undefined || r.dev === op.dev) &&
        (via === undefined || r.via === via) &&
        (op.proto === undefined || r.proto === op.proto) &&
        (op.type === undefined || (r.type ?? "unicast") === op.type),
    );
    if (i < 0) throw new KernelRefusal("No such process");
    ns.routes.splice(i, 1);
  }

  async links(netns: NetnsRef): Promise<LinkInfo[]> {
    return [...this.ns(netns).links.values()].sort((a, b) => a.index - b.index).map(toLinkInfo);
  }

  async link(netns: NetnsRef, name: string): Promise<LinkInfo | undefined> {
    const l = this.ns(netns).links.get(name);
    return l ? toLinkInfo(l) : undefined;
  }

  async neighbours(netns: NetnsRef): Promise<NeighInfo[]> {
    return this.ns(netns).neighs.map((n) => ({ ...n }));
  }

  async fdb(netns: NetnsRef, dev: string): Promise<FdbInfo[]> {
    return this.ns(netns)
      .fdb.filter((f) => f.dev === dev)
      .map((f) => ({ ...f }));
  }

  async addrs(netns: NetnsRef, dev?: string): Promise<AddrInfo[]> {
    const ns = this.ns(netns);
    if (dev !== undefined && !ns.links.has(dev)) {
      throw new TartanError(
        "exec-failed",
        `ip -j addr show dev ${dev} exited with status 1: Device "${dev}" does not exist.`,
      );
    }
    return ns.addrs.filter((a) => dev === undefined || a.dev === dev).map((a) => ({ ...a }));
  }

  async routes(netns: NetnsRef, family: 4 | 6): Promise<RouteInfo[]> {
    return this.ns(netns)
      .routes.filter((r) => r.family === family && r.table === MAIN_TABLE)
      .map(({ src: _src, mtu: _mtu, ...r }) => ({ ...r }));
  }

  async sysctlGet(netns: NetnsRef, key: string): Promise<string | undefined> {
    return this.ns(netns).sysctls.get(sysctlKey(key));
  }

  async sysctlSet(netns: NetnsRef, key: string, value: string): Promise<void> {
    const k = sysctlKey(key);
    const ns = this.ns(netns);
    if (!ns.sysctls.has(k)) {
      throw new TartanError(
        "sysctl-failed",
        `sysctl ${k}: cannot stat /proc/sys/${k}: No such file or directory`,
      );
    }
    this.sysctlWrites++;
    ns.sysctls.set(k, value);
    // ip_forward and conf/all/forwarding are one switch in the kernel, and set every device's.
    if (k === "net/ipv4/ip_forward" || k === "net/ipv4/conf/all/forwarding") {
      for (const key2 of ns.sysctls.keys()) {
        if (/^net\/ipv4\/conf\/[^/]+\/forwarding$/.test(key2) || key2 === "net/ipv4/ip_forward")
          ns.sysctls.set(key2, value);
      }
    }
  }

  async netnsExists(path: string): Promise<boolean> {
    return this.nss.has(path);
  }
}

function toLinkInfo(l: FakeLink): LinkInfo {
  const info: LinkInfo = { name: l.name, index: l.index, kind: l.kind, mtu: l.mtu, mac: l.mac, up: l.up };
  if (l.master !== undefined) info.master = l.master;
  if (l.hairpin !== undefined) info.hairpin = l.hairpin;
  if (l.vxlan !== undefined) info.vxlan = { ...l.vxlan };
  return info;
}
