import { TARTAN_OWNED } from "../dataplane/tartan-owned.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { byText } from "../model/by-text.ts";
import { type Cidr, contains, formatNetwork, parseCidr } from "../model/cidr.ts";
import type { IPAMBlockResource, NodeResource } from "../model/cluster-resources.ts";
import { formatIp, type Ip, parseIp } from "../model/ip.ts";
import type { RoutingBackendName } from "../model/routing-backend.ts";
import { isProblem, type LocalNode, type Peer, type PeerRoute } from "./backends/backend.ts";
import { routingBackend } from "./backends/registry.ts";
import { VXLAN_OVERHEAD } from "./backends/vxlan.ts";
import type { DesiredFdb, DesiredNeighbour, DesiredRoute, DesiredState } from "./desired-kernel-state.ts";
import type { RoutingProblem } from "./routing-problem.ts";

/** Calico's VNI and the IANA VXLAN port (Linux's own default, 8472, predates the IANA one). */
const DEFAULT_VNI = 4096;
const DEFAULT_VXLAN_PORT = 4789;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export interface NodeRoutingInput {
  /** The name of the node whose kernel state is computed. */
  localNode: string;
  nodes: readonly NodeResource[];
  blocks: readonly IPAMBlockResource[];
  backend: RoutingBackendName;
  /** The local underlay link (its name and MTU): host-gw routes leave through it, VXLAN sends over it. */
  underlay: { interface: string; mtu: number };
  vxlan?: { vni?: number; port?: number; device?: string };
  /**
   * Kept from one call to the next by a caller that calls often with mostly the same objects (the
   * agent's mirrors): the per-node and per-block work (parsing, the backend's answer) is then done
   * only for objects that are new since the last call. The result is the same with or without.
   */
  cache?: NodeRoutingCache;
}

/**
 * What calcNodeRouting worked out per object, keyed by the object itself: the agent's mirrors
 * replace an object when it changes and keep it when it does not, so at 1000 nodes a call after
 * one watch event parses one Node or block instead of 2000 (parsing addresses and CIDRs was most
 * of a call's time). Objects must not be changed in place once passed in.
 */
export class NodeRoutingCache {
  readonly peers = new WeakMap<NodeResource, Peer | RoutingProblem>();
  readonly blocks = new WeakMap<IPAMBlockResource, { dst: string; family: 4 | 6 } | RoutingProblem>();
  /** The backend's answer for a remote block, valid while its peer, the local side and the peer's MAC owner are. */
  readonly routes = new WeakMap<
    IPAMBlockResource,
    { peer: Peer; local: string; owner: string | undefined; r: PeerRoute | RoutingProblem | undefined }
  >();
}

/** The cached value of `key` in `map` (made and kept on a miss); without a cache, made each time. */
function cachedIn<K extends object, V>(map: WeakMap<K, V> | undefined, key: K, make: () => V): V {
  let v = map?.get(key);
  if (v === undefined) {
    v = make();
    map?.set(key, v);
  }
  return v;
}

export type { RoutingProblem, RoutingProblemCode } from "./routing-problem.ts";

export interface NodeRouting {
  state: DesiredState;
  problems: RoutingProblem[];
}

function parseLocal(node: NodeResource): { address: Ip; subnet: Cidr } {
  try {
    const address = parseIp(node.spec.underlayAddress, "underlayAddress");
    const subnet = parseCidr(node.spec.underlaySubnet, "underlaySubnet");
    if (!contains(subnet, address))
      throw new Error(`${formatIp(address)} is not inside ${formatNetwork(subnet)}`);
    return { address, subnet };
  } catch (e) {
    throw new TartanError(
      "invalid-local-node",
      `node ${node.metadata.name}: ${e instanceof Error ? e.message : String(e)}`,
      "fix the node's underlayAddress/underlaySubnet (the agent's underlay settings)",
    );
  }
}

/** A peer Node as the backends take it, or why it cannot be one (depends on the object alone). */
function parsePeer(n: NodeResource): Peer | RoutingProblem {
  const name = n.metadata.name;
  let address: Ip;
  try {
    address = parseIp(n.spec.underlayAddress, "underlayAddress");
  } catch {
    return {
      code: "invalid-node",
      node: name,
      message: `underlayAddress "${n.spec.underlayAddress}" is not an IP address`,
    };
  }
  const peer: Peer = { name, address, ...(n.spec.bgp?.ipv6Address ? { bgpIpv6: true } : {}) };
  const mac = n.spec.vtepMac?.toLowerCase();
  if (mac !== undefined && MAC.test(mac)) peer.mac = mac;
  return peer;
}

/** A block's canonical CIDR and family, or why it has none (depends on the object alone). */
function parseBlock(b: IPAMBlockResource): { dst: string; family: 4 | 6 } | RoutingProblem {
  let cidr: Cidr;
  try {
    cidr = parseCidr(b.spec.cidr, "cidr");
  } catch {
    return {
      code: "invalid-block",
      node: b.spec.node,
      block: b.spec.cidr,
      message: `block "${b.spec.cidr}" is not a CIDR`,
    };
  }
  return { dst: formatNetwork(cidr), family: cidr.ip.family };
}

/**
 * The kernel state one node needs to reach every other node's pod blocks: pure, no I/O. Remote
 * blocks get the route the backend gives them (backends/: host-gw via the peer's underlay
 * address, vxlan onlink through the VXLAN device with a permanent neighbour and an FDB entry,
 * cross-subnet one or the other by subnet); local blocks get a blackhole so that their
 * unallocated addresses are dropped here instead of leaking to the default route (pods' /32 and
 * /128 routes are more specific and win). Peers that cannot be routed are refused and listed in
 * `problems`, never half-routed. Throws when the local node is absent or malformed: without it
 * nothing is computable, and an empty state would tear down every route.
 */
export function calcNodeRouting(input: NodeRoutingInput): NodeRouting {
  const local = input.nodes.find((n) => n.metadata.name === input.localNode);
  if (!local) {
    throw new TartanError(
      "local-node-missing",
      `node ${input.localNode} is not in the datastore`,
      "the agent registers its Node before it programs routes; wait for the registration",
    );
  }
  const { address: localAddress, subnet: localSubnet } = parseLocal(local);
  const backend = routingBackend(input.backend);
  const problems = new Map<string, RoutingProblem>();
  const problem = (p: RoutingProblem) => problems.set(`${p.code} ${p.node} ${p.block ?? ""}`, p);

  const deviceName = input.vxlan?.device ?? TARTAN_OWNED.vxlanDevice;
  const localMac = local.spec.vtepMac?.toLowerCase();
  const vxlanUsable = backend.usesVxlan && localMac !== undefined && MAC.test(localMac);
  if (backend.usesVxlan && !vxlanUsable) {
    problem({
      code: "local-no-vtep-mac",
      node: input.localNode,
      message: `this node has no valid vtepMac ("${local.spec.vtepMac ?? ""}"): no peer can be reached through VXLAN`,
    });
  }

  // Peers, and which node a VTEP MAC belongs to (the first by name; later claimants are refused).
  const cache = input.cache;
  const peers = new Map<string, Peer>();
  const macOwner = new Map<string, string>();
  if (vxlanUsable) macOwner.set(localMac, input.localNode);
  for (const n of [...input.nodes].sort((a, b) => byText(a.metadata.name, b.metadata.name))) {
    const name = n.metadata.name;
    if (name === input.localNode) continue;
    const peer = cachedIn(cache?.peers, n, () => parsePeer(n));
    if ("code" in peer) {
      problem(peer);
      continue;
    }
    if (peer.mac !== undefined && !macOwner.has(peer.mac)) macOwner.set(peer.mac, name);
    peers.set(name, peer);
  }
  const localNode: LocalNode = {
    name: input.localNode,
    address: localAddress,
    subnet: localSubnet,
    underlayInterface: input.underlay.interface,
    macOwner,
    ...(local.spec.bgp?.ipv6Address ? { bgpIpv6: true } : {}),
    ...(vxlanUsable ? { vxlan: { device: deviceName, mac: localMac } } : {}),
  };

  const routes: DesiredRoute[] = [];
  const neighbours = new Map<string, DesiredNeighbour>();
  const fdb = new Map<string, DesiredFdb>();

  // What the backend's answers depend on besides the peer (see vxlanRoute, directRoute).
  const localSig = [
    input.backend,
    input.localNode,
    formatIp(localAddress),
    formatNetwork(localSubnet),
    input.underlay.interface,
    localNode.vxlan?.device,
    localNode.vxlan?.mac,
    localNode.bgpIpv6,
  ].join("|");
  let nodeNames: Set<string> | undefined;
  for (const b of [...input.blocks].sort((x, y) => byText(x.spec.cidr, y.spec.cidr))) {
    const owner = b.spec.node;
    const parsed = cachedIn(cache?.blocks, b, () => parseBlock(b));
    if ("code" in parsed) {
      problem(parsed);
      continue;
    }
    const { dst, family } = parsed;
    if (owner === input.localNode) {
      routes.push({ dst, family, type: "blackhole" });
      continue;
    }
    const peer = peers.get(owner);
    if (!peer) {
      // A set, not a scan per block: in a burst, hundreds of blocks can arrive before their Nodes.
      nodeNames ??= new Set(input.nodes.map((n) => n.metadata.name));
      if (!nodeNames.has(owner)) {
        problem({
          code: "block-owner-unknown",
          node: owner,
          block: dst,
          message: `block ${dst} belongs to node ${owner}, which does not exist`,
        });
      }
      continue;
    }
    const macOwnerNow = peer.mac === undefined ? undefined : macOwner.get(peer.mac);
    const hit = cache?.routes.get(b);
    let r: PeerRoute | RoutingProblem | undefined;
    if (hit && hit.peer === peer && hit.local === localSig && hit.owner === macOwnerNow) r = hit.r;
    else {
      r = backend.peerRoute(localNode, peer, { dst, family });
      cache?.routes.set(b, { peer, local: localSig, owner: macOwnerNow, r });
    }
    if (r === undefined) continue;
    if (isProblem(r)) {
      problem(r);
      continue;
    }
    routes.push(r.route);
    if (r.neighbour) neighbours.set(r.neighbour.ip, r.neighbour);
    if (r.fdb) fdb.set(r.fdb.mac, r.fdb);
  }

  const state: DesiredState = {
    routes: routes.sort((a, b) => a.family - b.family || byText(a.dst, b.dst)),
    neighbours: [...neighbours.values()].sort((a, b) => byText(a.ip, b.ip)),
    fdb: [...fdb.values()].sort((a, b) => byText(a.mac, b.mac)),
  };
  // The device stays while the backend uses VXLAN, even with no peer yet: a peer that learns of
  // this node first can then already reach it, and peers coming and going cause no link churn.
  if (vxlanUsable) {
    state.vxlan = {
      name: deviceName,
      vni: input.vxlan?.vni ?? DEFAULT_VNI,
      dstport: input.vxlan?.port ?? DEFAULT_VXLAN_PORT,
      local: formatIp(localAddress),
      dev: input.underlay.interface,
      mtu: input.underlay.mtu - VXLAN_OVERHEAD[localAddress.family],
      mac: localMac,
    };
  }
  const order = (p: RoutingProblem) => `${p.node} ${p.block ?? ""} ${p.code}`;
  return { state, problems: [...problems.values()].sort((a, b) => order(a).localeCompare(order(b))) };
}
