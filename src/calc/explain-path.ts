import { TARTAN_OWNED } from "../dataplane/tartan-owned.ts";
import { contains, parseCidr } from "../model/cidr.ts";
import type { IPAMBlockResource, NodeResource } from "../model/cluster-resources.ts";
import { parseIp } from "../model/ip.ts";
import type { RoutingBackendName } from "../model/routing-backend.ts";
import type { DesiredRoute } from "./desired-kernel-state.ts";
import { calcNodeRouting } from "./node-routing.ts";

/** How a packet from SRC gets to DST, as the source node's routing calc programs it. */
export interface ExplainPath {
  srcNode?: string;
  dstNode?: string;
  backend?: RoutingBackendName;
  /**
   * same-node: both ends on one node (the bridge or the pod routes; no underlay); direct: a
   * route via the peer's underlay address (host-gw); tunnel: through the VXLAN device to the
   * peer's VTEP; outside: the destination is not a pod of any block (left to the node's own
   * routing); unknown: not enough is known (no source node, no backend, no Node objects).
   */
  kind: "same-node" | "direct" | "tunnel" | "outside" | "unknown" | "unroutable";
  /** The source node's route to the destination (longest prefix among tartan's). */
  route?: { dst: string; type: string; via?: string; dev?: string };
  /** VXLAN: the remote VTEP (the destination node's underlay address) and its MAC. */
  tunnel?: { device: string; remote: string; mac: string };
  /** Why the path is broken or unknown (the routing calc's problem for the peer, when it has one). */
  problem?: string;
  text: string;
}

export interface PathInput {
  srcNode?: string;
  dstNode?: string;
  dstIp: string;
  /** A pod's address, a node's underlay address, or another (an unused one of a block is blackholed). */
  dstKind?: "pod" | "node" | "external";
  nodes?: readonly NodeResource[];
  blocks?: readonly IPAMBlockResource[];
  backend?: RoutingBackendName;
  underlayInterface?: string;
}

/** The node owning the IPAM block that holds the address, or whose underlay address it is. */
export function nodeOfAddress(
  ip: string,
  nodes: readonly NodeResource[] = [],
  blocks: readonly IPAMBlockResource[] = [],
): string | undefined {
  const a = parseIp(ip);
  for (const b of blocks) {
    try {
      if (contains(parseCidr(b.spec.cidr), a)) return b.spec.node;
    } catch {}
  }
  return nodes.find((n) => n.spec.underlayAddress === ip)?.metadata.name;
}

function longestMatch(routes: readonly DesiredRoute[], ip: string): DesiredRoute | undefined {
  const a = parseIp(ip);
  let best: { r: DesiredRoute; len: number } | undefined;
  for (const r of routes) {
    const c = parseCidr(r.dst);
    if (c.ip.family === a.family && contains(c, a) && (!best || c.prefix > best.len))
      best = { r, len: c.prefix };
  }
  return best?.r;
}

/**
 * The path part of an explanation, from calcNodeRouting of the source node (the same function
 * its agent programs the kernel from): the route to the destination's block, and for VXLAN the
 * neighbour and FDB entries that make the tunnel's remote end.
 */
export function explainPath(i: PathInput): ExplainPath {
  const base = {
    ...(i.srcNode ? { srcNode: i.srcNode } : {}),
    ...(i.dstNode ? { dstNode: i.dstNode } : {}),
    ...(i.backend ? { backend: i.backend } : {}),
  };
  if (i.srcNode && i.srcNode === i.dstNode && i.dstKind === "pod") {
    return { ...base, kind: "same-node", text: `both ends on node ${i.srcNode}: no underlay crossed` };
  }
  if (i.dstKind === "node") {
    return {
      ...base,
      kind: "outside",
      text: `to node ${i.dstNode}'s underlay address: the hosts' own routing`,
    };
  }
  if (!i.srcNode) return { ...base, kind: "unknown", text: "the source is not a pod of a known node" };
  if (!i.backend || !i.nodes?.length) {
    return { ...base, kind: "unknown", text: "routing not evaluated (no backend or no Node objects known)" };
  }
  let routing: ReturnType<typeof calcNodeRouting>;
  try {
    routing = calcNodeRouting({
      localNode: i.srcNode,
      nodes: i.nodes,
      blocks: i.blocks ?? [],
      backend: i.backend,
      underlay: { interface: i.underlayInterface ?? "underlay", mtu: 1500 },
    });
  } catch (e) {
    return { ...base, kind: "unroutable", problem: (e as Error).message, text: (e as Error).message };
  }
  const route = longestMatch(routing.state.routes, i.dstIp);
  const peerProblem = routing.problems.find((p) => p.node === i.dstNode);
  if (!route) {
    if (!i.dstNode) {
      return {
        ...base,
        kind: "outside",
        text: `${i.dstIp} is in no pod block: node ${i.srcNode}'s own routes`,
      };
    }
    const problem = peerProblem?.message ?? `node ${i.srcNode} has no route to ${i.dstIp}`;
    return { ...base, kind: "unroutable", problem, text: problem };
  }
  const r = {
    dst: route.dst,
    type: route.type,
    ...(route.via ? { via: route.via } : {}),
    ...(route.dev ? { dev: route.dev } : {}),
  };
  if (route.type === "blackhole") {
    const problem = `${i.dstIp} is in ${route.dst}, a block of node ${i.srcNode} itself, but no pod there has it (blackholed)`;
    return { ...base, kind: "unroutable", route: r, problem, text: problem };
  }
  const unused =
    i.dstKind === "external" && i.dstNode
      ? { problem: `no pod has ${i.dstIp}: node ${i.dstNode} blackholes the unused addresses of its blocks` }
      : {};
  const device = routing.state.vxlan?.name ?? TARTAN_OWNED.vxlanDevice;
  if (route.dev === device) {
    const mac = routing.state.neighbours.find((n) => n.ip === route.via)?.mac ?? "";
    const remote = routing.state.fdb.find((f) => f.mac === mac)?.dst ?? "";
    return {
      ...base,
      kind: "tunnel",
      route: r,
      tunnel: { device, remote, mac },
      ...unused,
      text: `node ${i.srcNode} → ${device} (VTEP ${remote}, ${mac}) → node ${i.dstNode ?? "?"}, route ${route.dst} via ${route.via}`,
    };
  }
  return {
    ...base,
    kind: "direct",
    route: r,
    ...unused,
    text: `node ${i.srcNode} → route ${route.dst}${route.via ? ` via ${route.via}` : ""}${route.dev ? ` dev ${route.dev}` : ""} → node ${i.dstNode ?? "?"}`,
  };
}
