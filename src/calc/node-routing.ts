import { TARTAN_OWNED } from "../dataplane/tartan-owned.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { type Cidr, contains, formatNetwork, parseCidr } from "../model/cidr.ts";
import type { IPAMBlockResource, NodeResource } from "../model/cluster-resources.ts";
import { formatIp, type Ip, parseIp } from "../model/ip.ts";
import type { DesiredFdb, DesiredNeighbour, DesiredRoute, DesiredState } from "./desired-kernel-state.ts";
import { eui64LinkLocal } from "./eui64-link-local.ts";
import { VXLAN_OVERHEAD } from "./pod-mtu.ts";
import type { RoutingBackend } from "./routing-backend.ts";

/** Calico's VNI and the IANA VXLAN port (Linux's own default, 8472, predates the IANA one). */
const DEFAULT_VNI = 4096;
const DEFAULT_VXLAN_PORT = 4789;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export interface NodeRoutingInput {
  /** The name of the node whose kernel state is computed. */
  localNode: string;
  nodes: readonly NodeResource[];
  blocks: readonly IPAMBlockResource[];
  backend: RoutingBackend;
  /** The local underlay link (its name and MTU): host-gw routes leave through it, VXLAN sends over it. */
  underlay: { interface: string; mtu: number };
  vxlan?: { vni?: number; port?: number; device?: string };
}

export type RoutingProblemCode =
  | "peer-not-on-subnet" // host-gw: the peer is not on the local underlay subnet
  | "peer-no-vtep-mac" // vxlan: the peer has not published its VTEP MAC yet
  | "local-no-vtep-mac" // vxlan: this node has no VTEP MAC, so no VXLAN at all
  | "duplicate-vtep-mac" // two nodes claim the same VTEP MAC: the FDB cannot tell them apart
  | "underlay-family" // the block's or the peer's address family cannot be carried
  | "invalid-node" // the peer's underlay address or subnet does not parse
  | "invalid-block" // the block's CIDR does not parse
  | "block-owner-unknown"; // the block names a node that does not exist (deleted?)

/** Why a peer or block got no route; the agent reports these in its status. */
export interface RoutingProblem {
  code: RoutingProblemCode;
  node: string;
  block?: string;
  message: string;
}

export interface NodeRouting {
  state: DesiredState;
  problems: RoutingProblem[];
}

interface Peer {
  name: string;
  address: Ip;
  mac?: string;
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

/**
 * The kernel state one node needs to reach every other node's pod blocks: pure, no I/O. Remote
 * blocks get a route (host-gw: via the peer's underlay address; vxlan: onlink via a next hop on
 * the VXLAN device, pinned by a permanent neighbour entry and an FDB entry); local blocks get a
 * blackhole so that their unallocated addresses are dropped here instead of leaking to the
 * default route (pods' /32 and /128 routes are more specific and win). Peers that cannot be
 * routed are refused and listed in `problems`, never half-routed. Throws when the local node is
 * absent or malformed: without it nothing is computable, and an empty state would tear down
 * every route.
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
  const problems = new Map<string, RoutingProblem>();
  const problem = (p: RoutingProblem) => problems.set(`${p.code} ${p.node} ${p.block ?? ""}`, p);

  const deviceName = input.vxlan?.device ?? TARTAN_OWNED.vxlanDevice;
  const usesVxlan = input.backend !== "host-gw";
  const localMac = local.spec.vtepMac?.toLowerCase();
  const vxlanUsable = usesVxlan && localMac !== undefined && MAC.test(localMac);
  if (usesVxlan && !vxlanUsable) {
    problem({
      code: "local-no-vtep-mac",
      node: input.localNode,
      message: `this node has no valid vtepMac ("${local.spec.vtepMac ?? ""}"): no peer can be reached through VXLAN`,
    });
  }

  // Peers, and which node a VTEP MAC belongs to (the first by name; later claimants are refused).
  const peers = new Map<string, Peer>();
  const macOwner = new Map<string, string>();
  if (vxlanUsable) macOwner.set(localMac, input.localNode);
  for (const n of [...input.nodes].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const name = n.metadata.name;
    if (name === input.localNode) continue;
    let address: Ip;
    try {
      address = parseIp(n.spec.underlayAddress, "underlayAddress");
    } catch {
      problem({
        code: "invalid-node",
        node: name,
        message: `underlayAddress "${n.spec.underlayAddress}" is not an IP address`,
      });
      continue;
    }
    const peer: Peer = { name, address };
    const mac = n.spec.vtepMac?.toLowerCase();
    if (mac !== undefined && MAC.test(mac)) {
      if (!macOwner.has(mac)) macOwner.set(mac, name);
      peer.mac = mac;
    }
    peers.set(name, peer);
  }

  const routes: DesiredRoute[] = [];
  const neighbours = new Map<string, DesiredNeighbour>();
  const fdb = new Map<string, DesiredFdb>();

  for (const b of [...input.blocks].sort((x, y) => x.spec.cidr.localeCompare(y.spec.cidr))) {
    const owner = b.spec.node;
    let cidr: Cidr;
    try {
      cidr = parseCidr(b.spec.cidr, "cidr");
    } catch {
      problem({
        code: "invalid-block",
        node: owner,
        block: b.spec.cidr,
        message: `block "${b.spec.cidr}" is not a CIDR`,
      });
      continue;
    }
    const dst = formatNetwork(cidr);
    const family = cidr.ip.family;
    if (owner === input.localNode) {
      routes.push({ dst, family, type: "blackhole" });
      continue;
    }
    const peer = peers.get(owner);
    if (!peer) {
      if (!input.nodes.some((n) => n.metadata.name === owner)) {
        problem({
          code: "block-owner-unknown",
          node: owner,
          block: dst,
          message: `block ${dst} belongs to node ${owner}, which does not exist`,
        });
      }
      continue;
    }
    const sameSubnet = contains(localSubnet, peer.address);
    const direct = input.backend === "host-gw" || (input.backend === "cross-subnet" && sameSubnet);
    const peerText = formatIp(peer.address);

    if (direct) {
      if (!sameSubnet) {
        problem({
          code: "peer-not-on-subnet",
          node: owner,
          message: `node ${owner} (${peerText}) is not on this node's underlay subnet ${formatNetwork(localSubnet)}: host-gw cannot route its blocks (use cross-subnet or vxlan)`,
        });
        continue;
      }
      if (family !== peer.address.family) {
        problem({
          code: "underlay-family",
          node: owner,
          block: dst,
          message: `block ${dst} is IPv${family} but node ${owner}'s underlay address ${peerText} is not: host-gw needs a next hop of the block's family`,
        });
        continue;
      }
      routes.push({ dst, family, type: "unicast", via: peerText, dev: input.underlay.interface });
      continue;
    }

    if (!vxlanUsable) continue; // reported once as local-no-vtep-mac
    if (peer.mac === undefined) {
      problem({
        code: "peer-no-vtep-mac",
        node: owner,
        message: `node ${owner} has not published a valid vtepMac yet`,
      });
      continue;
    }
    if (macOwner.get(peer.mac) !== owner) {
      problem({
        code: "duplicate-vtep-mac",
        node: owner,
        message: `node ${owner}'s vtepMac ${peer.mac} is already node ${macOwner.get(peer.mac)}'s`,
      });
      continue;
    }
    if (peer.address.family !== localAddress.family) {
      problem({
        code: "underlay-family",
        node: owner,
        message: `node ${owner}'s underlay address ${peerText} is not of this node's underlay family (IPv${localAddress.family})`,
      });
      continue;
    }
    // IPv4: the peer's underlay address (unique per peer, onlink on the VXLAN device). IPv6: the
    // link-local address the remote VXLAN device derives from its MAC.
    let via: string;
    if (family === 6) via = eui64LinkLocal(peer.mac);
    else if (peer.address.family === 4) via = peerText;
    else {
      problem({
        code: "underlay-family",
        node: owner,
        block: dst,
        message: `block ${dst} is IPv4 but the underlay is IPv6: no IPv4 next hop for node ${owner}`,
      });
      continue;
    }
    routes.push({ dst, family, type: "unicast", via, dev: deviceName, onlink: true });
    neighbours.set(via, { ip: via, mac: peer.mac });
    fdb.set(peer.mac, { mac: peer.mac, dst: peerText });
  }

  const state: DesiredState = {
    routes: routes.sort((a, b) => a.family - b.family || a.dst.localeCompare(b.dst)),
    neighbours: [...neighbours.values()].sort((a, b) => a.ip.localeCompare(b.ip)),
    fdb: [...fdb.values()].sort((a, b) => a.mac.localeCompare(b.mac)),
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
