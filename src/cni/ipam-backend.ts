import type { IpamTx } from "../datastore/ipam-store.ts";
import type { CniResult } from "../model/cni-result.ts";
import type { AttachmentKey } from "../model/net-conf.ts";

/**
 * IPAM as the interface plugin sees it, whether it runs in-process (tartan-ipam) or is a
 * delegated plugin found in CNI_PATH (host-local, ...). Results are IPAM results: ips without
 * interface indexes, routes, dns.
 */
export interface IpamBackend {
  /**
   * Reserves addresses. `record` runs in a store transaction committed no later than the
   * reservation: in the same transaction for in-process IPAM (one commit per ADD), and then it
   * gets the IPAM result; before the delegate runs for delegated IPAM (no result yet). ADD uses
   * it for the attachment record, so a crash at any point leaves a record DEL and GC can find.
   */
  add(record?: (tx: IpamTx, result?: CniResult) => void): Promise<CniResult>;
  del(): Promise<void>;
  check(): Promise<void>;
  gc(valid: AttachmentKey[]): Promise<void>;
  status(): Promise<void>;
}
