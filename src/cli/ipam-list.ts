import type { Allocation, IpamStore } from "../datastore/ipam-store.ts";

export interface IpamListing {
  dataDir: string;
  networks: { network: string; allocations: Allocation[]; attachments: number }[];
}

/** `tartan ipam ls`: every reservation of a local store, per network. */
export function ipamList(store: IpamStore, dataDir: string, network?: string): IpamListing {
  return store.transaction((tx) => ({
    dataDir,
    networks: tx
      .networks()
      .filter((n) => !network || n === network)
      .map((n) => ({ network: n, allocations: tx.allocations(n), attachments: tx.attachments(n).length })),
  }));
}
