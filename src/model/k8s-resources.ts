import type { Resource } from "./resource.ts";

/** metav1.LabelSelector. An empty selector ({}) matches everything; see label-selector.ts. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

/** The parts of a v1 Pod tartan uses: labels (metadata), node, named ports, IPs, phase. */
export interface PodSpec {
  nodeName?: string;
  hostNetwork?: boolean;
  containers?: { name: string; ports?: { name?: string; containerPort: number; protocol?: Protocol }[] }[];
}

export interface PodStatus {
  phase?: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  podIPs?: { ip: string }[];
}

export type PodResource = Resource<PodSpec, PodStatus>;

/** v1 Namespace; its labels (incl. kubernetes.io/metadata.name) are what namespaceSelector sees. */
export type NamespaceResource = Resource<Record<string, never>>;

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface NetworkPolicyPort {
  protocol?: Protocol;
  /** A number or a named port (IANA_SVC_NAME). Absent: every port of the protocol. */
  port?: number | string;
  endPort?: number;
}

export interface IPBlock {
  cidr: string;
  except?: string[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export interface NetworkPolicyIngressRule {
  from?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

/** networking.k8s.io/v1 NetworkPolicySpec. */
export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ("Ingress" | "Egress")[];
  ingress?: NetworkPolicyIngressRule[];
  egress?: NetworkPolicyEgressRule[];
}

export type NetworkPolicyResource = Resource<NetworkPolicySpec>;

export const K8S_KINDS = {
  pod: "Pod",
  namespace: "Namespace",
  networkPolicy: "NetworkPolicy",
} as const;

export const K8S_API_VERSIONS: Record<string, string> = {
  Pod: "v1",
  Namespace: "v1",
  NetworkPolicy: "networking.k8s.io/v1",
};

/** The label every namespace carries with its own name (immutable, set automatically). */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
