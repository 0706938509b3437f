import type { EtcdTlsFiles } from "../datastore/open-datastore.ts";
import { isBgpBackend, type RoutingBackendName } from "../model/routing-backend.ts";

export interface LabAgentConfigInput {
  nodeName: string;
  nodeDir: string;
  etcdEndpoint: string;
  /** The lab CA and client certificate its etcd requires (absent: plain HTTP). */
  etcdTls?: EtcdTlsFiles;
  backend: RoutingBackendName;
  network: string;
  podCidr: string;
  /** Dual-stack: the IPv6 pool too. */
  podCidr6?: string;
  /** Agent timings set at `lab up` (short dead-node graces for drills and e2e tests). */
  tuning?: LabAgentTuning;
  /** Kubernetes mode: the kubeconfig of the lab's API server (instead of etcd). */
  kubeconfig?: string;
  /** The IPv4 pool's block size (default 26); IPv6 blocks hold as many addresses (128 - (32 - it)). */
  blockSize?: number;
  /** BGP backends: this node's route-reflector cluster ID / own AS (`lab up --route-reflectors`). */
  bgp?: { routeReflectorClusterID?: string; asNumber?: number };
}

/** `lab up --heartbeat-seconds/--node-not-ready-after/--node-reclaim-after`, as agent config fields. */
export interface LabAgentTuning {
  heartbeatSeconds?: number;
  nodeNotReadyAfterSeconds?: number;
  nodeReclaimAfterSeconds?: number;
}

/**
 * The agent config of one lab node (the file of `tartan agent --config`). Its metrics listen on
 * the node namespace's loopback and its socket and IPAM store live in the node's dir: the nodes
 * share the machine's filesystem, never its network.
 */
export function labAgentConfig(i: LabAgentConfigInput): Record<string, unknown> {
  return {
    nodeName: i.nodeName,
    datastore: i.kubeconfig
      ? { type: "kubernetes", kubeconfig: i.kubeconfig }
      : { type: "etcd", endpoints: [i.etcdEndpoint], ...(i.etcdTls ? { tls: i.etcdTls } : {}) },
    backend: i.backend,
    underlayInterface: "eth0",
    pools: [
      { cidr: i.podCidr, blockSize: i.blockSize ?? 26 },
      ...(i.podCidr6 ? [{ cidr: i.podCidr6, blockSize: 96 + (i.blockSize ?? 26) }] : []),
    ],
    network: i.network,
    ipamDataDir: `${i.nodeDir}/ipam`,
    socket: `${i.nodeDir}/agent.sock`,
    metricsAddress: "127.0.0.1:9100",
    vxlan: { vni: 4096, port: 4789 },
    blockReleaseGraceSeconds: 30,
    resyncSeconds: 30,
    ...i.tuning,
    // bird's config, control socket and log in the node's dir (one bird per node), for every
    // backend: an agent without BGP looks there for a bird an earlier bgp backend left
    // (agent/retire-bird.ts), and must never find the host's or another lab's.
    bgp: { stateDir: `${i.nodeDir}/bird`, ...(isBgpBackend(i.backend) ? i.bgp : {}) },
  };
}
