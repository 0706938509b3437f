import type { EtcdTlsFiles } from "../datastore/open-datastore.ts";
import type { RoutingBackendName } from "../model/routing-backend.ts";
import type { LabAgentTuning } from "./lab-agent-config.ts";

/** A process the lab started and must stop: PID plus its start time, so a reused PID is never hit. */
export interface LabProcess {
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot) when it was started. */
  startTime: string;
  argv: string[];
  log: string;
}

export interface LabBridge {
  name: string;
  /** The underlay subnet this bridge carries, e.g. 198.18.0.0/24. */
  cidr: string;
  /** The fabric's own address on it: the nodes' default gateway. */
  gateway: string;
  /** IPv6 underlay (BGP labs with IPv6 pods): the subnet and the fabric's address on it. */
  cidr6?: string;
  gateway6?: string;
}

export interface LabNode {
  name: string;
  index: number;
  netns: string;
  underlayAddress: string;
  underlaySubnet: string;
  /** The node's IPv6 underlay address (BGP labs with IPv6 pods), the next hop of its IPv6 blocks. */
  underlayAddress6?: string;
  gateway: string;
  /** The bridge (in the fabric namespace) this node is plugged into, and the fabric-side veth. */
  bridge: string;
  fabricPort: string;
  dir: string;
  /** The CNI network config this node's plugin runs with (stdin of every ADD/DEL). */
  netconfFile: string;
  agentConfigFile?: string;
  agent?: LabProcess;
}

export interface LabPod {
  namespace: string;
  name: string;
  node: string;
  netns: string;
  containerId: string;
  ifname: string;
  /** "adding" while ADD runs: `lab down` and `pod rm` still clean it up if the adder died. */
  state: "adding" | "ready";
  ips: string[];
  /** The CNI ADD result as the plugin printed it. */
  result?: unknown;
  responder?: LabProcess;
  port: number;
  labels: Record<string, string>;
}

/** `lab up --tor`: FRR's zebra + bgpd in the fabric namespace, peered with every node. */
export interface LabTor {
  asNumber: number;
  /** The ToR's address the nodes peer with (the global BGPPeer's `peerIP`). */
  peerIP: string;
  /** Config files, pid files, zserv socket and the vty sockets `vtysh --vty_socket DIR` reaches. */
  dir: string;
  /** TCP-MD5 password of every node session (`--tor-password`), if any. */
  password?: string;
  zebra?: LabProcess;
  bgpd?: LabProcess;
}

/** `lab up --tor`: a client outside the cluster, behind the ToR (`lab exec outside -- …`). */
export interface LabOutside {
  netns: string;
  address: string;
  address6: string;
}

/** /run/tartan-lab/<lab>/lab.json: everything `lab down` needs to undo, and what `lab ls` shows. */
export interface LabState {
  version: 1;
  name: string;
  backend: RoutingBackendName;
  subnets: number;
  dir: string;
  createdAt: string;
  tartan: string;
  podCidr: string;
  /** The IPv6 pod pool of a dual-stack lab (`lab up --ipv6`); absent: IPv4 only. */
  podCidr6?: string;
  /** The CNI network name every node's plugin uses. */
  network: string;
  fabric: { netns: string; bridges: LabBridge[] };
  /** `tls`: the lab CA and client certificate its etcd requires (absent: a plain-HTTP etcd). */
  etcd?: LabProcess & { endpoint: string; tls?: Required<EtcdTlsFiles> };
  nodes: LabNode[];
  pods: LabPod[];
  /**
   * `kubernetes` (`lab up --datastore kubernetes`): the agents use the Kubernetes API of the lab's
   * stand-in API server (`kubeApi`), which stores in the lab's etcd. Absent: etcd directly.
   */
  datastore?: "etcd" | "kubernetes";
  /** The stand-in API server in the fabric namespace, and the kubeconfig of its admin user. */
  kubeApi?: LabProcess & { url: string; kubeconfig: string };
  /** Agent timings from `lab up` (nodes added later get them too). */
  agentTuning?: LabAgentTuning;
  tor?: LabTor;
  outside?: LabOutside;
  /** `lab up --block-size`: the IPv4 pool's block size (absent: 26). */
  blockSize?: number;
}
