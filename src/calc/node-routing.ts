import { TARTAN_OWNED } from "../dataplane/tartan-owned.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { type Cidr, contains, formatNetwork, parseCidr } from "../model/cidr.ts";
import type { IPAMBlockResource, NodeResource } from "../model/cluster-resources.ts";
import { formatIp, type Ip, parseIp } from "../model/ip.ts";
import type { RoutingBackendName } from "../model/routing-backend.ts";
import { isProblem, type LocalNode, type Peer } from "./backends/backend.ts";
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
    const peer: Peer = { name, address, ...(n.spec.bgp?.ipv6Address ? { bgpIpv6: true } : {}) };
    const mac = n.spec.vtepMac?.toLowerCase();
    if (mac !== undefined && MAC.test(mac)) {
      if (!macOwner.has(mac)) macOwner.set(mac, name);
      peer.mac = mac;
    }
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
    const r = backend.peerRoute(localNode, peer, { dst, family });
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
