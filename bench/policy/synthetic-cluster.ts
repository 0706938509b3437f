// A synthetic cluster for the policy benchmark: Namespaces, Pods (labels, named ports, nodeName,
// status.podIPs) and NetworkPolicies of varied shapes (pod/namespace selectors, AND peers,
// matchExpressions, ipBlock with except, numeric/named/endPort ports, ingress and egress), so the
// compiled ruleset has the sets, maps and chains a real cluster of that size would have. Pure.
import type { NamespaceResource, NetworkPolicyResource, PodResource } from "../../src/model/k8s-resources.ts";
import { parseK8sObject } from "../../src/model/parse-k8s-object.ts";

export const BENCH_NAMESPACES = 50;
const APPS = 20;
const TEAMS = 10;

export const nsName = (i: number) => `bench-ns-${String(i % BENCH_NAMESPACES).padStart(2, "0")}`;

export function benchNamespaces(): NamespaceResource[] {
  return Array.from({ length: BENCH_NAMESPACES }, (_, i) => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: nsName(i),
      labels: {
        team: `t-${i % TEAMS}`,
        env: i % 2 ? "prod" : "dev",
        "kubernetes.io/metadata.name": nsName(i),
      },
    },
    spec: {},
  }));
}

/** Pod i: 10.244.128.0/17 + i (far above the lab's real blocks), on node-1 for i < local. */
export function benchPodIp(i: number): string {
  return `10.244.${128 + Math.floor(i / 256)}.${i % 256}`;
}

export function benchPod(i: number, local: number, labels?: Record<string, string>): PodResource {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `p-${i}`,
      namespace: nsName(i),
      labels: labels ?? {
        app: `app-${i % APPS}`,
        tier: ["web", "api", "db"][i % 3]!,
        ver: `v${i % 4}`,
      },
    },
    spec: {
      nodeName: i < local ? "node-1" : `fake-node-${i % 100}`,
      containers: [
        {
          name: "c",
          ports: [
            { name: "http", containerPort: 8080, protocol: "TCP" },
            { name: "metrics", containerPort: 9090, protocol: "TCP" },
            { name: "dns", containerPort: 53, protocol: "UDP" },
          ],
        },
      ],
    },
    status: { phase: "Running", podIPs: [{ ip: benchPodIp(i) }] },
  };
}

/** Policy j: one of five shapes, selecting app-(j % 20) pods of its namespace. Defaulted as the API server would. */
export function benchPolicy(j: number): NetworkPolicyResource {
  const sel = { matchLabels: { app: `app-${j % APPS}` } };
  const shape = j % 5;
  const spec: Record<string, unknown> = { podSelector: sel };
  if (shape === 0) {
    spec.ingress = [{ from: [{ podSelector: { matchLabels: { tier: "web" } } }], ports: [{ port: 8080 }] }];
  } else if (shape === 1) {
    spec.ingress = [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { team: `t-${j % TEAMS}` } },
            podSelector: { matchLabels: { app: `app-${(j + 7) % APPS}` } },
          },
        ],
        ports: [{ port: "http" }, { port: "metrics" }],
      },
    ];
  } else if (shape === 2) {
    spec.ingress = [
      {
        from: [{ ipBlock: { cidr: `10.${j % 200}.0.0/16`, except: [`10.${j % 200}.${j % 250}.0/24`] } }],
        ports: [{ port: 9000, endPort: 9000 + (j % 100) }],
      },
    ];
  } else if (shape === 3) {
    spec.policyTypes = ["Egress"];
    spec.egress = [
      {
        to: [{ namespaceSelector: { matchLabels: { env: j % 2 ? "prod" : "dev" } } }],
        ports: [{ port: 53, protocol: "UDP" }, { port: 443 }],
      },
    ];
  } else {
    spec.policyTypes = ["Ingress", "Egress"];
    spec.ingress = [
      {
        from: [
          {
            podSelector: {
              matchExpressions: [{ key: "ver", operator: "NotIn", values: [`v${j % 4}`] }],
            },
          },
        ],
      },
    ];
    spec.egress = [{ to: [{ ipBlock: { cidr: `192.168.${j % 256}.0/24` } }], ports: [{ port: 5432 }] }];
  }
  return parseK8sObject({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: `pol-${j}`, namespace: nsName(j) },
    spec,
  }) as NetworkPolicyResource;
}

/** The iperf pair's policies: the server admits only the client on 5201, the client may reach only the server. */
export function iperfPolicies(): NetworkPolicyResource[] {
  return [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "iperf-server", namespace: "bench" },
      spec: {
        podSelector: { matchLabels: { app: "iperf-server" } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { app: "iperf-client" } } }], ports: [{ port: 5201 }] },
        ],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "iperf-client", namespace: "bench" },
      spec: {
        podSelector: { matchLabels: { app: "iperf-client" } },
        policyTypes: ["Egress"],
        egress: [
          { to: [{ podSelector: { matchLabels: { app: "iperf-server" } } }], ports: [{ port: 5201 }] },
        ],
      },
    },
  ].map((p) => parseK8sObject(p) as NetworkPolicyResource);
}
