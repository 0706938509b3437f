import { TartanError } from "../errors/tartan-error.ts";
import {
  BGP_CONFIGURATION_NAME,
  BGP_DEFAULTS,
  type BGPConfigurationResource,
  type BGPPeerResource,
  durationSeconds,
  ROUTE_REFLECTOR_LABEL,
} from "../model/bgp-resources.ts";
import { type Cidr, contains, formatNetwork, parseCidr } from "../model/cidr.ts";
import type { IPAMBlockResource, IPPoolSpec, NodeResource } from "../model/cluster-resources.ts";
import { FNV_OFFSET, fnv1a } from "../model/fnv1a.ts";
import { formatIp, type Ip, parseIp } from "../model/ip.ts";
import { selectorMatches } from "../model/label-selector.ts";
import { parsePeerIP } from "../model/validate-bgp-object.ts";

/** Who the other end of a session is, from this node's point of view. */
export type BgpSessionType =
  /** another node, full mesh */
  | "mesh"
  /** another node that is this route reflector's client */
  | "reflector-client"
  /** another node that is this node's route reflector */
  | "reflector"
  /** another node, by a BGPPeer's peerSelector (same cluster ID reflectors, plain iBGP/eBGP) */
  | "node"
  /** a router outside the cluster (BGPPeer peerIP) */
  | "external";

export interface BgpSession {
  /** BIRD protocol name: unique, [A-Za-z0-9_], at most 64 characters. */
  name: string;
  type: BgpSessionType;
  /** The peer's node name (absent for external routers). */
  peerNode?: string;
  peerIP: string;
  peerFamily: 4 | 6;
  port?: number;
  asNumber: number;
  /** The source address of the session (absent: BIRD picks; sourceAddress None). */
  localAddress?: string;
  passive: boolean;
  password?: string;
  restartTimeSeconds: number;
  keepaliveSeconds?: number;
  /** Set on a reflector's sessions to its clients: `rr client; rr cluster id X`. */
  rrClusterId?: string;
  multihop: boolean;
  /** Channels carried (MP-BGP over one session). */
  ipv4: boolean;
  ipv6: boolean;
}

export interface BgpPool {
  cidr: string;
  blockSize: number;
}

/** What one node's BIRD must do, computed from the datastore alone (render/bird-conf renders it). */
export interface BgpModel {
  node: string;
  routerId: string;
  asNumber: number;
  listenPort: number;
  /** The node's underlay address (session source). */
  localAddress: string;
  /** The node's IPv6 next hop (absent: IPv6 is not exchanged). */
  nextHop6?: string;
  /** This node is a route reflector with this cluster ID. */
  routeReflectorClusterId?: string;
  /** bgp-cross-subnet: only routes whose BGP next hop is one of these go to the kernel. */
  kernelNextHops?: { subnet4?: string; addresses6: string[] };
  blocks4: string[];
  blocks6: string[];
  pools4: BgpPool[];
  pools6: BgpPool[];
  sessions: BgpSession[];
  problems: { code: string; message: string }[];
}

export interface BgpModelInput {
  localNode: string;
  nodes: readonly NodeResource[];
  blocks: readonly IPAMBlockResource[];
  pools: readonly IPPoolSpec[];
  configs: readonly BGPConfigurationResource[];
  peers: readonly BGPPeerResource[];
  crossSubnet: boolean;
}

/** BIRD symbol: letters, digits, underscore (an IPv6 address's colons become underscores). */
const symbol = (prefix: string, ip: string, port?: number) =>
  `${prefix}_${ip.replace(/[.:]/g, "_")}${port ? `_port_${port}` : ""}`.slice(0, 64);

interface NodeView {
  name: string;
  address?: Ip;
  asNumber: number;
  clusterId?: string;
  ipv6?: string;
  labels: Record<string, string>;
}

function viewOf(n: NodeResource, defaultAs: number): NodeView {
  let address: Ip | undefined;
  try {
    address = parseIp(n.spec.underlayAddress);
  } catch {}
  const b = n.spec.bgp ?? {};
  const labels: Record<string, string> = {
    ...n.metadata.labels,
    "kubernetes.io/hostname": n.metadata.name,
  };
  if (b.routeReflectorClusterID) labels[ROUTE_REFLECTOR_LABEL] = "";
  return {
    name: n.metadata.name,
    ...(address ? { address } : {}),
    asNumber: b.asNumber ?? defaultAs,
    ...(b.routeReflectorClusterID ? { clusterId: b.routeReflectorClusterID } : {}),
    ...(b.ipv6Address ? { ipv6: b.ipv6Address } : {}),
    labels,
  };
}

/** A BGPPeer applies to a node when it names it, its nodeSelector matches it, or it says neither. */
function appliesTo(p: BGPPeerResource, n: NodeView): boolean {
  if (p.spec.node !== undefined) return p.spec.node === n.name;
  if (p.spec.nodeSelector) return selectorMatches(p.spec.nodeSelector, n.labels);
  return true;
}

/** 32-bit router ID: the IPv4 underlay address, else a stable hash of the node name (IPv6-only nodes). */
function routerIdOf(v: NodeView): string {
  if (v.address?.family === 4) return formatIp(v.address);
  const h = fnv1a(v.name, FNV_OFFSET) >>> 0;
  return [h >>> 24, (h >>> 16) & 255, (h >>> 8) & 255, h & 255].join(".");
}

/**
 * One node's BGP model (pure): its blocks (static blackholes = what it advertises), the pools it
 * accepts from peers, and its sessions — the full mesh (unless off; reflectors never mesh),
 * BGPPeers with peerSelector (both directions: a node selected by a peerSelector peers back with
 * every node the BGPPeer applies to) and BGPPeers with peerIP (external routers). One session per
 * peer carries both families (MP-BGP); IPv6 rides along when both ends have an IPv6 next hop.
 * An explicit peering replaces a mesh session to the same address.
 */
export function calcBgpModel(input: BgpModelInput): BgpModel {
  const cfg = input.configs.find((c) => c.metadata.name === BGP_CONFIGURATION_NAME)?.spec ?? {};
  const defaultAs = cfg.asNumber ?? BGP_DEFAULTS.asNumber;
  const meshOn = cfg.nodeToNodeMeshEnabled ?? BGP_DEFAULTS.nodeToNodeMeshEnabled;
  const meshRestart = durationSeconds(cfg.nodeMeshMaxRestartTime ?? "") ?? BGP_DEFAULTS.restartTimeSeconds;
  const problems: BgpModel["problems"] = [];
  const localRes = input.nodes.find((n) => n.metadata.name === input.localNode);
  const views = input.nodes.map((n) => viewOf(n, defaultAs)).sort((a, b) => a.name.localeCompare(b.name));
  const local = views.find((v) => v.name === input.localNode);
  if (!localRes || !local?.address) {
    throw new TartanError(
      "local-node-missing",
      `node ${input.localNode} is not in the datastore or has no valid underlayAddress`,
      "the agent registers its Node before it configures BIRD; wait for the registration",
    );
  }
  const localAddr = local.address;
  const localText = formatIp(localAddr);
  let localSubnet: Cidr | undefined;
  try {
    localSubnet = parseCidr(localRes.spec.underlaySubnet);
  } catch {}

  const sessions = new Map<string, BgpSession>();
  const nodeSession = (
    peer: NodeView,
    type: BgpSessionType,
    o: { password?: string; restart: number; keepalive?: number; sourceNone?: boolean },
  ): BgpSession | undefined => {
    if (!peer.address) {
      problems.push({
        code: "bgp-peer-no-address",
        message: `node ${peer.name} has no valid underlayAddress`,
      });
      return undefined;
    }
    if (peer.address.family !== localAddr.family) {
      problems.push({
        code: "bgp-peer-family",
        message: `node ${peer.name}'s underlay address is not IPv${localAddr.family} like this node's: no session`,
      });
      return undefined;
    }
    const ip = formatIp(peer.address);
    let rrClusterId: string | undefined;
    let t = type;
    if (local.clusterId && peer.asNumber === local.asNumber && peer.clusterId !== local.clusterId) {
      rrClusterId = local.clusterId;
      t = "reflector-client";
    } else if (peer.clusterId && peer.asNumber === local.asNumber && peer.clusterId !== local.clusterId) {
      t = "reflector";
    }
    return {
      name: symbol(t === "mesh" ? "mesh" : "node", ip),
      type: t,
      peerNode: peer.name,
      peerIP: ip,
      peerFamily: peer.address.family,
      asNumber: peer.asNumber,
      ...(o.sourceNone ? {} : { localAddress: localText }),
      // One side connects, the other listens (as Calico: a node is passive towards greater
      // addresses, i.e. the greater address connects; compared as numbers, so both ends agree),
      // so a fresh connection from a restarting node never collides with the established one.
      passive: peer.address.value > localAddr.value,
      ...(o.password ? { password: o.password } : {}),
      restartTimeSeconds: o.restart,
      ...(o.keepalive ? { keepaliveSeconds: o.keepalive } : {}),
      ...(rrClusterId ? { rrClusterId } : {}),
      multihop: true,
      ipv4: true,
      ipv6: local.ipv6 !== undefined && peer.ipv6 !== undefined,
    };
  };

  if (meshOn && !local.clusterId) {
    for (const peer of views) {
      if (peer.name === local.name || peer.clusterId) continue;
      const s = nodeSession(peer, "mesh", {
        ...(cfg.nodeMeshPassword ? { password: cfg.nodeMeshPassword } : {}),
        restart: meshRestart,
      });
      if (s) sessions.set(s.peerIP, s);
    }
  }

  const peers = [...input.peers].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const p of peers) {
    const o = {
      ...(p.spec.password ? { password: p.spec.password } : {}),
      restart: durationSeconds(p.spec.maxRestartTime ?? "") ?? BGP_DEFAULTS.restartTimeSeconds,
      ...(p.spec.keepaliveTime ? { keepalive: durationSeconds(p.spec.keepaliveTime) } : {}),
      sourceNone: p.spec.sourceAddress === "None",
    };
    if (p.spec.peerSelector) {
      const sel = p.spec.peerSelector;
      const targets = new Set<string>();
      if (appliesTo(p, local)) for (const v of views) if (selectorMatches(sel, v.labels)) targets.add(v.name);
      // The reverse direction: selected nodes peer with every node the BGPPeer applies to.
      if (selectorMatches(sel, local.labels)) for (const v of views) if (appliesTo(p, v)) targets.add(v.name);
      for (const v of views) {
        if (v.name === local.name || !targets.has(v.name)) continue;
        const s = nodeSession(v, "node", o);
        if (s) sessions.set(s.peerIP, s);
      }
      continue;
    }
    if (!appliesTo(p, local) || p.spec.peerIP === undefined || p.spec.asNumber === undefined) continue;
    const target = parsePeerIP(p.spec.peerIP);
    if (!target) continue; // refused on ingestion already
    const ip = formatIp(target.ip);
    if (ip === localText) continue;
    const fam = target.ip.family;
    const localForFam = fam === localAddr.family ? localText : local.ipv6;
    if (localForFam === undefined) {
      problems.push({
        code: "bgp-peer-family",
        message: `BGPPeer ${p.metadata.name}: ${ip} is IPv${fam} and this node has no IPv${fam} address`,
      });
      continue;
    }
    const direct = fam === localAddr.family && localSubnet !== undefined && contains(localSubnet, target.ip);
    sessions.set(ip, {
      name: symbol("ext", ip, target.port),
      type: "external",
      peerIP: ip,
      peerFamily: fam,
      ...(target.port ? { port: target.port } : {}),
      asNumber: p.spec.asNumber,
      ...(o.sourceNone ? {} : { localAddress: localForFam }),
      passive: false,
      ...(o.password ? { password: o.password } : {}),
      restartTimeSeconds: o.restart,
      ...(o.keepalive ? { keepaliveSeconds: o.keepalive } : {}),
      multihop: !direct,
      ipv4: fam === 4,
      ipv6: local.ipv6 !== undefined,
    });
  }

  const blocks4: string[] = [];
  const blocks6: string[] = [];
  for (const b of input.blocks) {
    if (b.spec.node !== local.name) continue;
    try {
      const c = parseCidr(b.spec.cidr);
      (c.ip.family === 4 ? blocks4 : blocks6).push(formatNetwork(c));
    } catch {}
  }
  const pools4: BgpPool[] = [];
  const pools6: BgpPool[] = [];
  for (const p of input.pools) {
    try {
      const c = parseCidr(p.cidr);
      (c.ip.family === 4 ? pools4 : pools6).push({ cidr: formatNetwork(c), blockSize: p.blockSize });
    } catch {}
  }
  const byText = (a: string, b: string) => a.localeCompare(b);
  let kernelNextHops: BgpModel["kernelNextHops"];
  if (input.crossSubnet) {
    const near = views.filter(
      (v) => v.name !== local.name && v.address && localSubnet && contains(localSubnet, v.address),
    );
    kernelNextHops = {
      ...(localSubnet && localAddr.family === 4 ? { subnet4: formatNetwork(localSubnet) } : {}),
      addresses6: near.flatMap((v) => (v.ipv6 ? [v.ipv6] : [])).sort(byText),
    };
  }
  return {
    node: local.name,
    routerId: routerIdOf(local),
    asNumber: local.asNumber,
    listenPort: cfg.listenPort ?? BGP_DEFAULTS.listenPort,
    localAddress: localText,
    ...(local.ipv6 ? { nextHop6: local.ipv6 } : {}),
    ...(local.clusterId ? { routeReflectorClusterId: local.clusterId } : {}),
    ...(kernelNextHops ? { kernelNextHops } : {}),
    blocks4: blocks4.sort(byText),
    blocks6: blocks6.sort(byText),
    pools4,
    pools6,
    sessions: [...sessions.values()].sort((a, b) => a.name.localeCompare(b.name)),
    problems,
  };
}
