import { addressTakenError } from "./address-taken-error.ts";
import type { Allocation, Attachment, IpamStore, IpamTx } from "./ipam-store.ts";

interface State {
  /** network -> ip -> allocation */
  reservations: Map<string, Map<string, Allocation>>;
  /** network -> rangeKey -> ip */
  cursors: Map<string, Map<string, string>>;
  /** network -> owner key -> attachment */
  attachments: Map<string, Map<string, Attachment>>;
  /** network -> block CIDRs in order */
  blocks: Map<string, string[]>;
}

const ownerKey = (containerId: string, ifname: string): string => `${containerId}\u0000${ifname}`;

function emptyState(): State {
  return { reservations: new Map(), cursors: new Map(), attachments: new Map(), blocks: new Map() };
}

function inner<V>(outer: Map<string, Map<string, V>>, network: string): Map<string, V> {
  let m = outer.get(network);
  if (!m) {
    m = new Map();
    outer.set(network, m);
  }
  return m;
}

/**
 * IpamStore kept in memory, for unit tests of the allocation logic. It behaves like the sqlite
 * adapter (the contract suite runs against both): transactions are all-or-nothing (a throw
 * restores the snapshot taken at the start) and values handed out are copies, so a caller that
 * mutates a returned object cannot change the store behind its back.
 */
export class MemoryIpamStore implements IpamStore {
  private state: State = emptyState();
  private inTransaction = false;

  transaction<T>(fn: (tx: IpamTx) => T): T {
    if (this.inTransaction) throw new Error("MemoryIpamStore: nested transactions are not supported");
    const snapshot = structuredClone(this.state);
    this.inTransaction = true;
    try {
      return fn(this.tx());
    } catch (e) {
      this.state = snapshot;
      throw e;
    } finally {
      this.inTransaction = false;
    }
  }

  close(): void {}

  private tx(): IpamTx {
    const s = this.state;
    return {
      isAllocated: (network, ip) => s.reservations.get(network)?.has(ip) ?? false,
      allocations: (network) => [...(s.reservations.get(network)?.values() ?? [])].map((a) => ({ ...a })),
      countAllocations: (network) => s.reservations.get(network)?.size ?? 0,
      allocationsOf: (network, containerId, ifname) =>
        [...(s.reservations.get(network)?.values() ?? [])]
          .filter((a) => a.containerId === containerId && a.ifname === ifname)
          .map((a) => ({ ...a })),
      reserve: (a) => {
        const m = inner(s.reservations, a.network);
        if (m.has(a.ip)) throw addressTakenError(a.network, a.ip);
        m.set(a.ip, { ...a });
      },
      release: (network, containerId, ifname) => {
        const m = s.reservations.get(network);
        const released: Allocation[] = [];
        for (const [ip, a] of m ?? []) {
          if (a.containerId === containerId && a.ifname === ifname) {
            released.push(a);
            m?.delete(ip);
          }
        }
        return released;
      },
      lastReserved: (network, rangeKey) => s.cursors.get(network)?.get(rangeKey),
      setLastReserved: (network, rangeKey, ip) => {
        inner(s.cursors, network).set(rangeKey, ip);
      },
      putAttachment: (a) => {
        inner(s.attachments, a.network).set(ownerKey(a.containerId, a.ifname), { ...a });
      },
      getAttachment: (network, containerId, ifname) => {
        const a = s.attachments.get(network)?.get(ownerKey(containerId, ifname));
        return a ? { ...a } : undefined;
      },
      deleteAttachment: (network, containerId, ifname) => {
        s.attachments.get(network)?.delete(ownerKey(containerId, ifname));
      },
      attachments: (network) => [...(s.attachments.get(network)?.values() ?? [])].map((a) => ({ ...a })),
      networks: () => {
        const names = new Set<string>();
        for (const [n, m] of s.reservations) if (m.size > 0) names.add(n);
        for (const [n, m] of s.attachments) if (m.size > 0) names.add(n);
        return [...names].sort();
      },
      nodeBlocks: (network) => [...(s.blocks.get(network) ?? [])],
      setNodeBlocks: (network, blocks) => {
        if (blocks.length === 0) s.blocks.delete(network);
        else s.blocks.set(network, [...blocks]);
      },
    };
  }
}
