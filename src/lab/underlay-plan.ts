import type { LabBridge } from "./lab-state.ts";

export interface UnderlayNode {
  name: string;
  index: number;
  netns: string;
  address: string;
  subnet: string;
  gateway: string;
  /** The node's IPv6 underlay address (IPv6 underlay only). */
  address6?: string;
  bridge: string;
  fabricPort: string;
  /** The MAC of the node's `eth0`, derived from its address (labUnderlayMac). */
  mac: string;
  /** This node's share of the fabric's lines (its veth, plugged into its bridge): `lab node add`. */
  fabricLines: string[];
  /** `ip -batch` lines run inside the node namespace once its veth end has arrived. */
  nodeLines: string[];
}

export interface UnderlayPlan {
  bridges: LabBridge[];
  nodes: UnderlayNode[];
  /** `ip -batch` lines run inside the fabric namespace: bridges, then one veth per node. */
  fabricLines: string[];
}

/**
 * The lab's underlay, pure: one bridge per subnet in the fabric namespace (198.18.<s>.0/24, the
 * fabric holding .1 and routing between them), node i on subnet (i-1) mod subnets at .<10+i>,
 * its `eth0` a veth whose other end is a port of that bridge. All inside 198.18.0.0/15 (RFC 2544
 * benchmarking space), and all inside the lab's namespaces.
 */
/** The MTU of the lab's underlay (bridges and node veths): pod MTUs are derived from it. */
export const LAB_UNDERLAY_MTU = 1500;

/**
 * The MAC the lab gives the underlay interface holding `address` (a node's eth0, a bridge's
 * gateway): locally administered 02:00 and the four bytes of the IPv4 address, so that every
 * neighbour entry can be planned without reading the kernel (and a node re-added at the same
 * index gets the same MAC its peers already know).
 */
export function labUnderlayMac(address: string): string {
  return ["02", "00", ...address.split(".").map((b) => Number(b).toString(16).padStart(2, "0"))].join(":");
}

/**
 * `ip -batch` lines that make a node (or the fabric, on `dev` = its bridge) know `n` statically.
 * Why static: the kernel's neighbour (ARP/ND) table is one table for all network namespaces,
 * limited by the root namespace's `gc_thresh3` (default 1024; the child namespaces cannot even
 * see it). A lab of N nodes on one subnet needs about N² entries at once (in a BGP full mesh
 * every node talks to every other one): at 50 nodes ~2550, so ARP entries could not be created
 * ("neighbor table overflow!"), connects failed with EHOSTUNREACH, keepalives were lost and
 * sessions flapped for ever. Permanent entries are exempt from that limit (gc_entries, kernel
 * ≥ 4.19) and need no ARP at all; real nodes each have their own table and never hit this.
 */
export function staticNeighbourLines(
  n: { address: string; address6?: string; mac: string },
  dev: string,
): string[] {
  return [
    `neigh replace ${n.address} lladdr ${n.mac} dev ${dev} nud permanent`,
    ...(n.address6 ? [`neigh replace ${n.address6} lladdr ${n.mac} dev ${dev} nud permanent`] : []),
  ];
}

/**
 * With `ipv6` (BGP labs with IPv6 pods: BGP needs an IPv6 next hop for IPv6 blocks, where VXLAN
 * carries IPv6 over the IPv4 underlay) each subnet also gets fd00:198:18:<s>::/64 (ULA, the
 * fabric ::1, node i ::<10+i>), addresses without duplicate address detection (no wait).
 */
export function planUnderlay(
  nodeNetns: (i: number) => string,
  nodes: number,
  subnets: number,
  ipv6 = false,
): UnderlayPlan {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 200) throw new RangeError("nodes must be 1..200");
  if (!Number.isInteger(subnets) || subnets < 1 || subnets > 2)
    throw new RangeError("subnets must be 1 or 2");
  const bridges: LabBridge[] = [];
  const fabricLines: string[] = [];
  for (let s = 0; s < subnets; s++) {
    const b: LabBridge = {
      name: `br${s}`,
      cidr: `198.18.${s}.0/24`,
      gateway: `198.18.${s}.1`,
      ...(ipv6 ? { cidr6: `fd00:198:18:${s}::/64`, gateway6: `fd00:198:18:${s}::1` } : {}),
    };
    bridges.push(b);
    fabricLines.push(
      `link add ${b.name} address ${labUnderlayMac(b.gateway)} type bridge`,
      `link set ${b.name} mtu ${LAB_UNDERLAY_MTU} up`,
      `addr add ${b.gateway}/24 dev ${b.name}`,
      ...(ipv6 ? [`addr add ${b.gateway6}/64 dev ${b.name} nodad`] : []),
    );
  }
  const planned: UnderlayNode[] = [];
  for (let i = 1; i <= nodes; i++) {
    const b = bridges[(i - 1) % subnets]!;
    const s = (i - 1) % subnets;
    const netns = nodeNetns(i);
    const fabricPort = `nd${i}`;
    const address = `198.18.${s}.${10 + i}`;
    const address6 = ipv6 ? `fd00:198:18:${s}::${(10 + i).toString(16)}` : undefined;
    const mac = labUnderlayMac(address);
    const portLines = [
      `link add ${fabricPort} mtu ${LAB_UNDERLAY_MTU} type veth peer name eth0 netns ${netns}`,
      `link set ${fabricPort} master ${b.name} up`,
      ...staticNeighbourLines({ address, ...(address6 ? { address6 } : {}), mac }, b.name),
    ];
    fabricLines.push(...portLines);
    planned.push({
      name: `node-${i}`,
      index: i,
      netns,
      address,
      subnet: b.cidr,
      gateway: b.gateway,
      ...(address6 ? { address6 } : {}),
      bridge: b.name,
      fabricPort,
      mac,
      fabricLines: portLines,
      nodeLines: [
        "link set lo up",
        `link set eth0 address ${mac}`,
        `addr add ${address}/24 dev eth0`,
        ...(address6 ? [`addr add ${address6}/64 dev eth0 nodad`] : []),
        "link set eth0 up",
        `route add default via ${b.gateway} dev eth0`,
        ...(address6 ? [`route add default via ${b.gateway6} dev eth0`] : []),
        // After `up` (an interface going down drops its permanent entries too).
        ...staticNeighbourLines(
          {
            address: b.gateway,
            ...(b.gateway6 ? { address6: b.gateway6 } : {}),
            mac: labUnderlayMac(b.gateway),
          },
          "eth0",
        ),
      ],
    });
  }
  // Every node knows every other node of its subnet statically (staticNeighbourLines: why).
  for (const n of planned) {
    for (const peer of planned)
      if (peer !== n && peer.bridge === n.bridge) n.nodeLines.push(...staticNeighbourLines(peer, "eth0"));
  }
  return { bridges, nodes: planned, fabricLines };
}
