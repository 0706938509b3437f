import type { IpFamily } from "../model/ip.ts";
import type { Protocol } from "../model/k8s-resources.ts";

/**
 * A named set or verdict map of the policy IR, as data (render/policy-set-nft.ts writes the
 * declaration and the elements). Elements are sorted and canonical, so equal content is equal data.
 * - `addr`: addresses (canonical text, "10.0.0.1"), or with `interval` CIDRs ("10.1.0.0/16");
 * - `addr-proto-port`: (address, protocol, port) triples, the egress named-port sets;
 * - `addr-verdict`: a verdict map, local pod address → jump to its chain.
 */
export type PolicySet = AddrSet | AddrPortSet | VerdictMap;

interface SetBase {
  name: string;
  family: IpFamily;
}
export interface AddrSet extends SetBase {
  kind: "set";
  type: "addr";
  interval: boolean;
  elements: string[];
}
export interface AddrPortSet extends SetBase {
  kind: "set";
  type: "addr-proto-port";
  elements: AddrPortElement[];
}
export interface VerdictMap extends SetBase {
  kind: "map";
  type: "addr-verdict";
  elements: JumpElement[];
}

export interface AddrPortElement {
  addr: string;
  protocol: Protocol;
  port: number;
}
/** A verdict map element: packets of this address jump to the chain. */
export interface JumpElement {
  addr: string;
  jump: string;
}
