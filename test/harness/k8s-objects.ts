// Pods, Namespaces and NetworkPolicies for policy tests, in the shape the datastore stores.
import type {
  NamespaceResource,
  NetworkPolicyResource,
  NetworkPolicySpec,
  PodResource,
  Protocol,
} from "../../src/model/k8s-resources.ts";

export interface PodOptions {
  node?: string;
  labels?: Record<string, string>;
  ports?: { name: string; containerPort: number; protocol?: Protocol }[];
  phase?: "Pending" | "Running" | "Succeeded" | "Failed";
  hostNetwork?: boolean;
}

export function pod(key: string, ips: string[], o: PodOptions = {}): PodResource {
  const [namespace, name] = key.split("/") as [string, string];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: o.labels ?? {} },
    spec: {
      nodeName: o.node ?? "n1",
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: "c", ports: o.ports ?? [] }],
    },
    status: { phase: o.phase ?? "Running", podIPs: ips.map((ip) => ({ ip })) },
  };
}

export function namespace(name: string, labels: Record<string, string> = {}): NamespaceResource {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels }, spec: {} };
}

export function netpol(key: string, spec: Partial<NetworkPolicySpec>): NetworkPolicyResource {
  const [ns, name] = key.split("/") as [string, string];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: ns },
    spec: { podSelector: {}, ...spec },
  };
}
