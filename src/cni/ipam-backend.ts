import type { CniResult } from "../model/cni-result.ts";
import type { AttachmentKey } from "../model/net-conf.ts";

/**
 * IPAM as the interface plugin sees it, whether it runs in-process (tartan-ipam) or is a
 * delegated plugin found in CNI_PATH (host-local, ...). Results are IPAM results: ips without
 * interface indexes, routes, dns.
 */
export interface IpamBackend {
  add(): Promise<CniResult>;
  del(): Promise<void>;
  check(): Promise<void>;
  gc(valid: AttachmentKey[]): Promise<void>;
  status(): Promise<void>;
}
