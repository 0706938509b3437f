/**
 * A CNI result in tartan's internal shape, which is the newest spec's (1.1.0). Conversion to the
 * shape of an older request version happens only at the edge (cni/shape-result.ts).
 */
export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** The netns path for container interfaces; absent for host interfaces. */
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface CniIpConfig {
  /** Address with prefix, e.g. 10.88.0.5/16. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}
