import type { NodeIpamState } from "../model/agent-api.ts";
import type { IPAMBlockResource, IPPoolResource, NodeResource } from "../model/cluster-resources.ts";
import { parseIp } from "../model/ip.ts";
import { isReservedAddress, parseIpRange, rangeCapacity, rangeContains } from "./ip-range.ts";

export interface IpamShow {
  pools: { name: string; cidr: string; blockSize: number; blocks: number }[];
  /** used: reservations inside the block on its owner's store; undefined when that was not read. */
  blocks: {
    cidr: string;
    pool: string;
    node: string;
    nodeExists: boolean;
    capacity: number;
    used?: number;
    free?: number;
  }[];
  nodes: {
    node: string;
    blocks: number;
    capacity: number;
    used?: number;
    free?: number;
    reservations?: number;
  }[];
}

/**
 * `tartan ipam show`: the pools, every block with its owner and how full it is, and per-node
 * totals. Capacities count what the allocator can hand out (network, gateway and IPv4
 * broadcast addresses excluded), from the same range arithmetic the plugin allocates with.
 */
export function ipamShow(i: {
  pools: readonly IPPoolResource[];
  blocks: readonly IPAMBlockResource[];
  nodes: readonly NodeResource[];
  stores: readonly NodeIpamState[];
}): IpamShow {
  const storeOf = new Map(i.stores.map((s) => [s.node, s]));
  const nodeNames = new Set(i.nodes.map((n) => n.metadata.name));
  const blocks = [...i.blocks]
    .sort((a, b) => a.spec.node.localeCompare(b.spec.node) || a.spec.cidr.localeCompare(b.spec.cidr))
    .map((b) => {
      let capacity = 0;
      let used: number | undefined;
      try {
        const r = parseIpRange({ subnet: b.spec.cidr }, "cidr");
        capacity = Number(rangeCapacity(r));
        const s = storeOf.get(b.spec.node);
        if (s) {
          used = s.reservations.filter((a) => {
            const ip = parseIp(a.ip);
            return rangeContains(r, ip) && !isReservedAddress(r, ip);
          }).length;
        }
      } catch {}
      return {
        cidr: b.spec.cidr,
        pool: b.spec.pool,
        node: b.spec.node,
        nodeExists: nodeNames.has(b.spec.node),
        capacity,
        ...(used !== undefined ? { used, free: capacity - used } : {}),
      };
    });
  const owners = [...new Set([...i.nodes.map((n) => n.metadata.name), ...blocks.map((b) => b.node)])].sort();
  const nodes = owners.map((node) => {
    const mine = blocks.filter((b) => b.node === node);
    const capacity = mine.reduce((n, b) => n + b.capacity, 0);
    const s = storeOf.get(node);
    if (!s) return { node, blocks: mine.length, capacity };
    const used = mine.reduce((n, b) => n + (b.used ?? 0), 0);
    return {
      node,
      blocks: mine.length,
      capacity,
      used,
      free: capacity - used,
      reservations: s.reservations.length,
    };
  });
  const pools = [...i.pools]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((p) => ({
      name: p.metadata.name,
      cidr: p.spec.cidr,
      blockSize: p.spec.blockSize,
      blocks: i.blocks.filter((b) => b.spec.pool === p.metadata.name).length,
    }));
  return { pools, blocks, nodes };
}
