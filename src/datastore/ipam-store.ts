/**
 * The local state a node keeps for the CNI plugin: address reservations and the attachments
 * (container + interface) that own them. The port is synchronous on purpose: the local adapter is
 * bun:sqlite, whose transactions are synchronous, and keeping it so means no await can sit inside
 * a transaction and hold the write lock across I/O.
 */

/** One reserved address, owned by (network, containerId, ifname). */
export interface Allocation {
  network: string;
  /** Canonical address text, no prefix. */
  ip: string;
  containerId: string;
  ifname: string;
  /** Which configured range it came from, e.g. "10.88.0.0/16": round-robin state is per range. */
  rangeKey: string;
}

/** What the plugin needs to undo an ADD without the runtime's help (DEL without prevResult, GC). */
export interface Attachment {
  network: string;
  containerId: string;
  ifname: string;
  netns: string;
  /** Host-side interface name (veth) or "" when none was created. */
  hostIfname: string;
  /** The ADD result in tartan's internal (1.1.0) shape, as JSON text. */
  result: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

export interface IpamTx {
  isAllocated(network: string, ip: string): boolean;
  allocations(network: string): Allocation[];
  /** How many addresses the network holds; bounds the allocator's search without loading every row. */
  countAllocations(network: string): number;
  allocationsOf(network: string, containerId: string, ifname: string): Allocation[];
  /** Reserves the address; throws addressTakenError (code "ipam-ip-in-use") when anyone holds it. */
  reserve(a: Allocation): void;
  /** Releases everything (network, containerId, ifname) holds; returns what was released. */
  release(network: string, containerId: string, ifname: string): Allocation[];
  lastReserved(network: string, rangeKey: string): string | undefined;
  setLastReserved(network: string, rangeKey: string, ip: string): void;
  putAttachment(a: Attachment): void;
  getAttachment(network: string, containerId: string, ifname: string): Attachment | undefined;
  deleteAttachment(network: string, containerId: string, ifname: string): void;
  attachments(network: string): Attachment[];
  /** Networks that have any reservation or attachment in this store. */
  networks(): string[];
  /**
   * The IPAM blocks (CIDRs) this node owns for the network, in the order the plugin tries them.
   * The agent writes the list (nodeBlocks IPAM); the plugin reads it in the same transaction as
   * it allocates, so a block the agent removes can never receive an address in between.
   */
  nodeBlocks(network: string): string[];
  /** Replaces the network's block list (an empty list removes it). */
  setNodeBlocks(network: string, blocks: readonly string[]): void;
}

export interface IpamStore {
  /**
   * Runs fn in one exclusive transaction: concurrent plugin processes wait for each other, and a
   * throw rolls everything back, so a crash at any point leaves either all of fn or none of it.
   */
  transaction<T>(fn: (tx: IpamTx) => T): T;
  close(): void;
}
