import type { KernelOp } from "../dataplane/kernel-op.ts";

/** One address the pod gets: CIDR text as configured in the pod, and the gateway it routes via. */
export interface PodAddress {
  cidr: string;
  family: 4 | 6;
  gateway?: string;
}

/** A route the pod gets, with its gateway already resolved. */
export interface PodRoute {
  dst: string;
  family: 4 | 6;
  via?: string;
}

/** Everything a pod-interface mode needs to know to wire one attachment. */
export interface PodWiring {
  netns: string;
  ifname: string;
  hostIfname: string;
  mtu: number;
  podMac: string;
  hostMac: string;
  addresses: PodAddress[];
  routes: PodRoute[];
}

/**
 * The kernel changes of one ADD, split by namespace: `host` runs first (it creates the veth whose
 * peer lands in the pod), `pod` second, `sysctls` are host-side writes done after `host`.
 */
export interface PodPlan {
  host: KernelOp[];
  pod: KernelOp[];
  sysctls: { key: string; value: string }[];
}
