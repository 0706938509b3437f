import type { Allocation, Attachment, IpamTx } from "../datastore/ipam-store.ts";

/** What one owner gave back. */
export interface Released {
  containerId: string;
  ifname: string;
  allocations: Allocation[];
  /** The attachment record, when there was one: DEL and GC use it to find the host-side veth. */
  attachment: Attachment | undefined;
}

/**
 * Releases every reservation and the attachment record of (network, containerId, ifname).
 * Releasing an owner that holds nothing is not an error (CNI DEL must be idempotent).
 */
export function release(tx: IpamTx, network: string, containerId: string, ifname: string): Released {
  const attachment = tx.getAttachment(network, containerId, ifname);
  if (attachment) tx.deleteAttachment(network, containerId, ifname);
  const allocations = tx.release(network, containerId, ifname);
  return { containerId, ifname, allocations, attachment };
}
