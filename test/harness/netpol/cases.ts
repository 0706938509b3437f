// The upstream NetworkPolicy e2e scenarios (reference/k8s/NETPOL-E2E-CASES.md, cases 1–48, from
// kubernetes test/e2e/network/netpol/network_policy.go) as data: the policies each step applies
// or deletes, the labels it changes, and the whole 9×9 matrix expected on each probed
// port/protocol. Then the behaviours that suite does not check (endPort ranges on the data path,
// replies of allowed connections, dual-stack matching). Namespaces x, y, z; pods a, b, c.
import type { ProbeSpec } from "./netpol-lab.ts";
import { ALL_PODS, type PodKey, Reachability } from "./reachability.ts";

type Json = Record<string, unknown>;

export interface Check extends ProbeSpec {
  expect: Reachability;
}

export interface LabelChange {
  kind: "pod" | "namespace";
  /** "ns/pod" or the namespace. */
  name: string;
  changes: string[];
}

export interface Step {
  what: string;
  apply?: Json[];
  delete?: Json[];
  label?: LabelChange[];
  checks: Check[];
}

export interface CaseContext {
  ip4(pod: PodKey): string;
  ip6(pod: PodKey): string;
}

export interface NetpolCase {
  id: string;
  title: string;
  /** The protocol the kernel must have for the case to run at all (SCTP: 46–48). */
  requires?: "SCTP";
  steps(ctx: CaseContext): Step[];
}

// ---- policy builders (kubectl-style objects; the API server's defaulting is tartan's job) ----

export const np = (namespace: string, name: string, spec: Json): Json => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace },
  spec,
});
const labels = (l: Record<string, string>) => ({ matchLabels: l });
const pod = (name: string) => labels({ pod: name });
const nsName = (name: string) => labels({ "kubernetes.io/metadata.name": name });
const ALL = {};
const port = (p: number | string, protocol?: string, endPort?: number): Json => ({
  port: p,
  ...(protocol ? { protocol } : {}),
  ...(endPort !== undefined ? { endPort } : {}),
});

/** A policy selecting every pod of its namespace and allowing it no ingress. */
const denyIngress = (): Json => ({ podSelector: ALL, ingress: [] });
/** A policy selecting pod=a of its namespace and allowing ingress from these peers only. */
const aIngressFrom = (...peers: Json[]): Json => ({ podSelector: pod("a"), ingress: [{ from: peers }] });

// ---- expectations ----

const reach = (f: (r: Reachability) => unknown = () => {}): Reachability => {
  const r = new Reachability(ALL_PODS, true);
  f(r);
  return r;
};
const tcp = (p: number, expect: Reachability): Check => ({ port: p, protocol: "TCP", expect });
const udp = (p: number, expect: Reachability): Check => ({ port: p, protocol: "UDP", expect });
const ALL_OPEN = () => reach();
// The shapes many cases expect (each call builds a fresh matrix: checks must not share one).
/** x/a accepts only from the pods named (no one when none is). */
const xaOnlyFrom = (...from: PodKey[]) =>
  reach((r) => {
    r.expectAllIngress("x/a", false);
    for (const f of from) r.expect(f, "x/a", true);
  });
/** x/a accepts only from the pods of namespace `ns`. */
const xaOnlyFromNamespace = (ns: string) =>
  reach((r) =>
    r.expectAllIngress("x/a", false).expectPeer({ namespace: ns }, { namespace: "x", pod: "a" }, true),
  );
/** x/a refuses the pods of these namespaces; everything else is open. */
const xaRefusesNamespaces = (...namespaces: string[]) =>
  reach((r) => {
    for (const ns of namespaces) r.expectPeer({ namespace: ns }, { namespace: "x", pod: "a" }, false);
  });
/** The pods of x accept nothing. */
const xDeniesIngress = () => reach((r) => r.expectPeer({}, { namespace: "x" }, false));
/** The pods of x send nowhere. */
const xDeniesEgress = () => reach((r) => r.expectPeer({ namespace: "x" }, {}, false));
/** The pods of x neither accept nor send. */
const xDeniesAll = () =>
  reach((r) => r.expectPeer({}, { namespace: "x" }, false).expectPeer({ namespace: "x" }, {}, false));

const one = (what: string, apply: Json[], checks: Check[]): Step[] => [{ what, apply, checks }];

/**
 * Upstream runs three of its TCP scenarios again for UDP (43–45) and for SCTP (46–48): deny
 * ingress, ingress on port 81 from namespace y, ingress from y's pod a. Only the protocol, the ids
 * and one policy name differ.
 */
function otherProtocolCases(
  protocol: "UDP" | "SCTP",
  ids: readonly [string, string, string],
  portPolicyName: string,
): NetpolCase[] {
  const check = (p: number, expect: Reachability): Check => ({ port: p, protocol, expect });
  const requires = protocol === "SCTP" ? { requires: "SCTP" as const } : {};
  return [
    {
      id: ids[0],
      title: `${protocol}: should support a 'default-deny-ingress' policy`,
      ...requires,
      steps: () =>
        one("deny ingress in x", [np("x", "deny-all", denyIngress())], [check(80, xDeniesIngress())]),
    },
    {
      id: ids[1],
      title: `${protocol}: should enforce policy based on Ports`,
      ...requires,
      steps: () =>
        one(
          `x/a from namespace y on ${protocol} 81`,
          [
            np("x", portPolicyName, {
              podSelector: pod("a"),
              ingress: [{ from: [{ namespaceSelector: nsName("y") }], ports: [port(81, protocol)] }],
            }),
          ],
          [check(81, xaOnlyFromNamespace("y"))],
        ),
    },
    {
      id: ids[2],
      title: `${protocol}: should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector`,
      ...requires,
      steps: () =>
        one(
          "x/a from (namespace y AND pod=a)",
          [
            np(
              "x",
              "allow-ns-y-pod-a-via-namespace-pod-selector",
              aIngressFrom({ namespaceSelector: nsName("y"), podSelector: pod("a") }),
            ),
          ],
          [check(80, xaOnlyFrom("y/a"))],
        ),
    },
  ];
}

export const CASES: NetpolCase[] = [
  // ---------------- TCP: "NetworkPolicy between server and client" ----------------
  {
    id: "1",
    title: "should support a 'default-deny-ingress' policy",
    steps: () =>
      one("deny ingress in x", [np("x", "deny-ingress", denyIngress())], [tcp(80, xDeniesIngress())]),
  },
  {
    id: "2",
    title: "should support a 'default-deny-all' policy",
    steps: () =>
      one(
        "deny all in x",
        [np("x", "deny-all", { podSelector: ALL, policyTypes: ["Ingress", "Egress"] })],
        [tcp(80, xDeniesAll())],
      ),
  },
  {
    id: "3",
    title: "should enforce policy to allow traffic from pods within server namespace based on PodSelector",
    steps: () =>
      one(
        "x/a from pod=b",
        [np("x", "x-a-allows-x-b", aIngressFrom({ podSelector: pod("b") }))],
        [tcp(80, xaOnlyFrom("x/b"))],
      ),
  },
  {
    id: "4",
    title: "should enforce policy to allow ingress traffic for a target",
    steps: () =>
      one(
        "deny ingress in x, x/a open to all pods",
        [
          np("x", "deny-ingress-via-label-selector", denyIngress()),
          np("x", "allow-all-to-a", aIngressFrom({ podSelector: ALL, namespaceSelector: ALL })),
        ],
        [
          tcp(
            80,
            reach((r) => r.expectPeer({}, { namespace: "x" }, false).expectAllIngress("x/a", true)),
          ),
        ],
      ),
  },
  {
    id: "5",
    title: "should enforce policy to allow ingress traffic from pods in all namespaces",
    steps: () =>
      one(
        "x/a from namespaceSelector {}",
        [np("x", "allow-from-all-ns", aIngressFrom({ namespaceSelector: ALL }))],
        [tcp(80, ALL_OPEN())],
      ),
  },
  {
    id: "6",
    title:
      "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
    steps: () =>
      one(
        "x/a from namespace y",
        [np("x", "allow-ns-y", aIngressFrom({ namespaceSelector: nsName("y") }))],
        [tcp(80, xaRefusesNamespaces("x", "z"))],
      ),
  },
  {
    id: "7",
    title: "should enforce policy based on PodSelector with MatchExpressions",
    steps: () =>
      one(
        "x/a from pod In [b]",
        [
          np("x", "allow-pod-b-expr", {
            podSelector: pod("a"),
            ingress: [
              {
                from: [
                  { podSelector: { matchExpressions: [{ key: "pod", operator: "In", values: ["b"] }] } },
                ],
              },
            ],
          }),
        ],
        [tcp(80, xaOnlyFrom("x/b"))],
      ),
  },
  {
    id: "8",
    title: "should enforce policy based on NamespaceSelector with MatchExpressions",
    steps: () =>
      one(
        "x/a from namespace In [y]",
        [
          np("x", "allow-ns-y-expr", {
            podSelector: pod("a"),
            ingress: [
              {
                from: [
                  {
                    namespaceSelector: {
                      matchExpressions: [
                        { key: "kubernetes.io/metadata.name", operator: "In", values: ["y"] },
                      ],
                    },
                  },
                ],
              },
            ],
          }),
        ],
        [tcp(80, xaRefusesNamespaces("x", "z"))],
      ),
  },
  {
    id: "9",
    title: "should enforce policy based on PodSelector or NamespaceSelector",
    steps: () =>
      one(
        "x/a from (namespace NotIn [x]) OR (pod=b)",
        [
          np("x", "allow-ns-or-pod", {
            podSelector: pod("a"),
            ingress: [
              {
                from: [
                  {
                    namespaceSelector: {
                      matchExpressions: [
                        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["x"] },
                      ],
                    },
                  },
                  { podSelector: pod("b") },
                ],
              },
            ],
          }),
        ],
        [
          tcp(
            80,
            reach((r) => r.expect("x/c", "x/a", false)),
          ),
        ],
      ),
  },
  {
    id: "10",
    title: "should enforce policy based on PodSelector and NamespaceSelector",
    steps: () =>
      one(
        "x/a from (namespace NotIn [x] AND pod=b)",
        [
          np("x", "allow-ns-and-pod", {
            podSelector: pod("a"),
            ingress: [
              {
                from: [
                  {
                    namespaceSelector: {
                      matchExpressions: [
                        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["x"] },
                      ],
                    },
                    podSelector: pod("b"),
                  },
                ],
              },
            ],
          }),
        ],
        [tcp(80, xaOnlyFrom("y/b", "z/b"))],
      ),
  },
  {
    id: "11",
    title: "should enforce policy based on Multiple PodSelectors and NamespaceSelectors",
    steps: () =>
      one(
        "x/a from (namespace NotIn [x] AND pod In [b, c])",
        [
          np("x", "allow-ns-and-pods", {
            podSelector: pod("a"),
            ingress: [
              {
                from: [
                  {
                    namespaceSelector: {
                      matchExpressions: [
                        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["x"] },
                      ],
                    },
                    podSelector: { matchExpressions: [{ key: "pod", operator: "In", values: ["b", "c"] }] },
                  },
                ],
              },
            ],
          }),
        ],
        [tcp(80, xaOnlyFrom("y/b", "y/c", "z/b", "z/c"))],
      ),
  },
  {
    id: "12",
    title: "should enforce policy based on any PodSelectors",
    steps: () =>
      one(
        "x/a from (pod=b) OR (pod=c)",
        [np("x", "allow-pods-b-c", aIngressFrom({ podSelector: pod("b") }, { podSelector: pod("c") }))],
        [tcp(80, xaOnlyFrom("x/b", "x/c"))],
      ),
  },
  {
    id: "13",
    title:
      "should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
    steps: () =>
      one(
        "x/a from (namespace y AND pod=a)",
        [np("x", "allow-y-a", aIngressFrom({ namespaceSelector: nsName("y"), podSelector: pod("a") }))],
        [tcp(80, xaOnlyFrom("y/a"))],
      ),
  },
  {
    id: "14",
    title: "should enforce policy based on Ports",
    steps: () =>
      one(
        "x/a from namespace y on TCP 81",
        [
          np("x", "allow-y-81", {
            podSelector: pod("a"),
            ingress: [{ from: [{ namespaceSelector: nsName("y") }], ports: [port(81, "TCP")] }],
          }),
        ],
        [tcp(81, xaOnlyFromNamespace("y"))],
      ),
  },
  {
    id: "15",
    title: "should enforce multiple, stacked policies with overlapping podSelectors",
    steps: () => {
      const fromY = xaOnlyFromNamespace("y");
      return [
        {
          what: "x/a from y on 81",
          apply: [
            np("x", "allow-y-81", {
              podSelector: pod("a"),
              ingress: [{ from: [{ namespaceSelector: nsName("y") }], ports: [port(81)] }],
            }),
          ],
          checks: [tcp(81, fromY), tcp(80, xaOnlyFrom())],
        },
        {
          what: "plus x/a from y on 80",
          apply: [
            np("x", "allow-y-80", {
              podSelector: pod("a"),
              ingress: [{ from: [{ namespaceSelector: nsName("y") }], ports: [port(80)] }],
            }),
          ],
          checks: [tcp(80, fromY), tcp(81, fromY)],
        },
      ];
    },
  },
  {
    id: "16",
    title: "should support allow-all policy",
    steps: () =>
      one(
        "allow all ingress in x",
        [np("x", "allow-all", { podSelector: ALL, ingress: [{}] })],
        [tcp(80, ALL_OPEN()), tcp(81, ALL_OPEN())],
      ),
  },
  {
    id: "17",
    title: "should allow ingress access on one named port",
    steps: () =>
      one(
        "x/* ingress on serve-81-tcp only",
        [np("x", "allow-all-81-named", { podSelector: ALL, ingress: [{ ports: [port("serve-81-tcp")] }] })],
        [tcp(81, ALL_OPEN()), tcp(80, xDeniesIngress())],
      ),
  },
  {
    id: "18",
    title: "should allow ingress access from namespace on one named port",
    steps: () =>
      one(
        "x/a from namespace y on serve-80-tcp",
        [
          np("x", "allow-y-named-80", {
            podSelector: pod("a"),
            ingress: [{ from: [{ namespaceSelector: nsName("y") }], ports: [port("serve-80-tcp")] }],
          }),
        ],
        [tcp(80, xaOnlyFromNamespace("y")), tcp(81, xaOnlyFrom())],
      ),
  },
  {
    id: "19",
    title: "should allow egress access on one named port",
    steps: () =>
      one(
        "x/* egress to serve-80-tcp only",
        [
          np("x", "allow-egress-named-80", {
            podSelector: ALL,
            policyTypes: ["Egress"],
            egress: [{ ports: [port("serve-80-tcp")] }],
          }),
        ],
        [tcp(80, ALL_OPEN()), tcp(81, xDeniesEgress())],
      ),
  },
  {
    id: "20",
    title: "should enforce updated policy",
    steps: () => [
      {
        what: "allow all ingress in x",
        apply: [np("x", "allow-all-mutate-to-deny-all", { podSelector: ALL, ingress: [{}] })],
        checks: [tcp(81, ALL_OPEN())],
      },
      {
        what: "the same policy updated to zero rules",
        apply: [np("x", "allow-all-mutate-to-deny-all", denyIngress())],
        checks: [tcp(81, xDeniesIngress())],
      },
    ],
  },
  {
    id: "21",
    title: "should allow ingress access from updated namespace",
    steps: () => [
      {
        what: "x/a from namespaces ns2=updated (none yet)",
        apply: [
          np(
            "x",
            "allow-client-a-via-ns-selector",
            aIngressFrom({ namespaceSelector: labels({ ns2: "updated" }) }),
          ),
        ],
        checks: [tcp(80, xaOnlyFrom())],
      },
      {
        what: "namespace y gets ns2=updated",
        label: [{ kind: "namespace", name: "y", changes: ["ns2=updated"] }],
        checks: [tcp(80, xaOnlyFromNamespace("y"))],
      },
    ],
  },
  {
    id: "22",
    title: "should allow ingress access from updated pod",
    steps: () => [
      {
        what: "x/a from pods {pod=b, pod2=updated} (none yet)",
        apply: [
          np(
            "x",
            "allow-client-a-via-pod-selector",
            aIngressFrom({ podSelector: labels({ pod: "b", pod2: "updated" }) }),
          ),
        ],
        checks: [tcp(80, xaOnlyFrom())],
      },
      {
        what: "x/b gets pod2=updated",
        label: [{ kind: "pod", name: "x/b", changes: ["pod2=updated"] }],
        checks: [tcp(80, xaOnlyFrom("x/b"))],
      },
    ],
  },
  {
    id: "23",
    title: "should deny ingress from pods on other namespaces",
    steps: () =>
      one(
        "x/* ingress from podSelector {} (own namespace)",
        [np("x", "deny-other-ns", { podSelector: ALL, ingress: [{ from: [{ podSelector: ALL }] }] })],
        [
          tcp(
            80,
            reach((r) =>
              r
                .expectPeer({ namespace: "y" }, { namespace: "x" }, false)
                .expectPeer({ namespace: "z" }, { namespace: "x" }, false),
            ),
          ),
        ],
      ),
  },
  {
    id: "24",
    title: "should deny ingress access to updated pod",
    steps: () => [
      {
        what: "deny ingress to target=isolated (no pod yet)",
        apply: [
          np("x", "deny-ingress-via-isolated-label-selector", {
            podSelector: labels({ target: "isolated" }),
            policyTypes: ["Ingress"],
          }),
        ],
        checks: [tcp(80, ALL_OPEN())],
      },
      {
        what: "x/a gets target=isolated",
        label: [{ kind: "pod", name: "x/a", changes: ["target=isolated"] }],
        checks: [tcp(80, xaOnlyFrom())],
      },
    ],
  },
  {
    id: "25",
    title: "should deny egress from pods based on PodSelector",
    steps: () =>
      one(
        "x/a: Egress, no rules",
        [np("x", "deny-egress-pod-a", { podSelector: pod("a"), policyTypes: ["Egress"] })],
        [
          tcp(
            80,
            reach((r) => r.expectAllEgress("x/a", false)),
          ),
        ],
      ),
  },
  {
    id: "26",
    title: "should deny egress from all pods in a namespace",
    steps: () =>
      one(
        "x/*: Egress, no rules",
        [np("x", "deny-egress-ns-x", { podSelector: ALL, policyTypes: ["Egress"] })],
        [tcp(80, xDeniesEgress())],
      ),
  },
  {
    id: "27",
    title: "should work with Ingress, Egress specified together",
    steps: () =>
      one(
        "x/a: ingress from x/b (any port), egress to port 80",
        [
          np("x", "allow-client-a-via-pod-selector", {
            podSelector: pod("a"),
            policyTypes: ["Ingress", "Egress"],
            ingress: [{ from: [{ podSelector: pod("b") }] }],
            egress: [{ ports: [port(80)] }],
          }),
        ],
        [
          tcp(80, xaOnlyFrom("x/b")),
          tcp(
            81,
            reach((r) =>
              r.expectAllIngress("x/a", false).expectAllEgress("x/a", false).expect("x/b", "x/a", true),
            ),
          ),
        ],
      ),
  },
  {
    id: "28",
    title:
      "should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
    steps: () =>
      one(
        "x/a egress only to y/a; y/a and y/b ingress only from x/a",
        [
          np("x", "allow-to-ns-y-pod-a", {
            podSelector: pod("a"),
            policyTypes: ["Egress"],
            egress: [{ to: [{ namespaceSelector: nsName("y"), podSelector: pod("a") }] }],
          }),
          np(
            "y",
            "allow-from-xa-on-ya-match-selector",
            aIngressFrom({ namespaceSelector: nsName("x"), podSelector: pod("a") }),
          ),
          np("y", "allow-from-xa-on-yb-match-selector", {
            podSelector: pod("b"),
            ingress: [{ from: [{ namespaceSelector: nsName("x"), podSelector: pod("a") }] }],
          }),
        ],
        [
          tcp(
            80,
            reach((r) =>
              r
                .expectAllEgress("x/a", false)
                .expectAllIngress("y/a", false)
                .expectAllIngress("y/b", false)
                .expect("x/a", "y/a", true),
            ),
          ),
        ],
      ),
  },
  {
    id: "29",
    title:
      "should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
    steps: () =>
      one(
        "x/a egress only to (namespace y AND pod=a)",
        [
          np("x", "allow-to-ns-y-pod-a", {
            podSelector: pod("a"),
            policyTypes: ["Egress"],
            egress: [{ to: [{ namespaceSelector: nsName("y"), podSelector: pod("a") }] }],
          }),
        ],
        [
          tcp(
            80,
            reach((r) => r.expectAllEgress("x/a", false).expect("x/a", "y/a", true)),
          ),
        ],
      ),
  },
  {
    id: "30",
    title: "should enforce ingress policy allowing any port traffic to a server on a specific protocol",
    steps: () =>
      one(
        "x/a ingress: protocol TCP, no port",
        [
          np("x", "allow-ingress-by-proto", {
            podSelector: pod("a"),
            ingress: [{ ports: [{ protocol: "TCP" }] }],
          }),
        ],
        [tcp(80, ALL_OPEN()), tcp(81, ALL_OPEN()), udp(80, xaOnlyFrom())],
      ),
  },
  {
    id: "31",
    title: "should enforce multiple ingress policies with ingress allow-all policy taking precedence",
    steps: () => [
      {
        what: "x/* ingress on 80 only",
        apply: [
          np("x", "allow-client-a-via-ns-selector-80", {
            podSelector: ALL,
            ingress: [{ ports: [port(80)] }],
          }),
        ],
        checks: [tcp(81, xDeniesIngress()), tcp(80, ALL_OPEN())],
      },
      {
        what: "plus allow-all ingress",
        apply: [np("x", "allow-all-ingress", { podSelector: ALL, ingress: [{}] })],
        checks: [tcp(81, ALL_OPEN())],
      },
    ],
  },
  {
    id: "32",
    title: "should enforce multiple egress policies with egress allow-all policy taking precedence",
    steps: () => [
      {
        what: "x/* egress to 80 only",
        apply: [
          np("x", "allow-egress-80", {
            podSelector: ALL,
            policyTypes: ["Egress"],
            egress: [{ ports: [port(80)] }],
          }),
        ],
        checks: [tcp(81, xDeniesEgress()), tcp(80, ALL_OPEN())],
      },
      {
        what: "plus allow-all egress",
        apply: [np("x", "allow-all-egress", { podSelector: ALL, policyTypes: ["Egress"], egress: [{}] })],
        checks: [tcp(81, ALL_OPEN())],
      },
    ],
  },
  {
    id: "33",
    title: "should stop enforcing policies after they are deleted",
    steps: () => {
      const deny = np("x", "deny-all", { podSelector: ALL, policyTypes: ["Ingress", "Egress"] });
      return [
        {
          what: "deny all in x",
          apply: [deny],
          checks: [tcp(80, xDeniesAll())],
        },
        { what: "policy deleted", delete: [deny], checks: [tcp(80, ALL_OPEN())] },
      ];
    },
  },
  {
    id: "34",
    title: "should allow egress access to server in CIDR block",
    steps: (c) =>
      one(
        "x/a egress only to <y/b>/32",
        [
          np("x", "allow-client-a-via-cidr-egress-rule", {
            podSelector: pod("a"),
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: `${c.ip4("y/b")}/32` } }] }],
          }),
        ],
        [
          tcp(
            80,
            reach((r) => r.expectAllEgress("x/a", false).expect("x/a", "y/b", true)),
          ),
        ],
      ),
  },
  {
    id: "35",
    title: "should enforce except clause while egress access to server in CIDR block",
    steps: (c) =>
      one(
        "x/a egress to <x/a>/4 except <x/b>/32",
        [
          np("x", "deny-client-a-via-except-cidr-egress-rule", {
            podSelector: pod("a"),
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: `${c.ip4("x/a")}/4`, except: [`${c.ip4("x/b")}/32`] } }] }],
          }),
        ],
        [
          tcp(
            80,
            reach((r) => r.expect("x/a", "x/b", false)),
          ),
        ],
      ),
  },
  {
    id: "36",
    title: "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed",
    steps: (c) => [
      {
        what: "x/a egress to <x/a>/4 except <x/b>/32",
        apply: [
          np("x", "deny-client-a-via-except-cidr-egress-rule", {
            podSelector: pod("a"),
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: `${c.ip4("x/a")}/4`, except: [`${c.ip4("x/b")}/32`] } }] }],
          }),
        ],
        checks: [
          tcp(
            80,
            reach((r) => r.expect("x/a", "x/b", false)),
          ),
        ],
      },
      {
        what: "updated: x/a egress only to <x/b>/32",
        apply: [
          np("x", "deny-client-a-via-except-cidr-egress-rule", {
            podSelector: pod("a"),
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: `${c.ip4("x/b")}/32` } }] }],
          }),
        ],
        checks: [
          tcp(
            80,
            reach((r) => r.expectAllEgress("x/a", false).expect("x/a", "x/b", true)),
          ),
        ],
      },
    ],
  },
  {
    id: "37",
    title:
      "should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector",
    steps: () => [
      {
        what: "x/a allow-all egress",
        apply: [np("x", "allow-egress-xa", { podSelector: pod("a"), policyTypes: ["Egress"], egress: [{}] })],
        checks: [tcp(80, ALL_OPEN())],
      },
      {
        what: "plus x/a deny-all ingress",
        apply: [np("x", "deny-ingress-xa", { podSelector: pod("a"), policyTypes: ["Ingress"] })],
        checks: [tcp(80, xaOnlyFrom())],
      },
    ],
  },
  {
    id: "38",
    title:
      "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
    steps: () =>
      one(
        "deny ingress in x, x/a allows SCTP 81",
        [
          np("x", "deny-ingress", denyIngress()),
          np("x", "allow-only-sctp-ingress-on-port-81", {
            podSelector: pod("a"),
            ingress: [{ ports: [port(81, "SCTP")] }],
          }),
        ],
        [tcp(81, xDeniesIngress())],
      ),
  },
  {
    id: "39",
    title:
      "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
    steps: () =>
      one(
        "x/a allows only SCTP 80",
        [
          np("x", "allow-only-sctp-ingress-on-port-80", {
            podSelector: pod("a"),
            ingress: [{ ports: [port(80, "SCTP")] }],
          }),
        ],
        [tcp(81, xaOnlyFrom())],
      ),
  },
  {
    id: "40",
    title: "should not allow access by TCP when a policy specifies only UDP",
    steps: () =>
      one(
        "x/a allows only UDP 81",
        [
          np("x", "allow-only-udp-ingress-on-port-81", {
            podSelector: pod("a"),
            ingress: [{ ports: [port(81, "UDP")] }],
          }),
        ],
        [tcp(81, xaOnlyFrom()), udp(81, ALL_OPEN())],
      ),
  },
  {
    id: "41",
    title:
      "should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label",
    steps: () =>
      one(
        "x/a from kubernetes.io/metadata.name=y",
        [np("x", "allow-client-a-via-ns-selector", aIngressFrom({ namespaceSelector: nsName("y") }))],
        [tcp(80, xaRefusesNamespaces("x", "z"))],
      ),
  },
  {
    id: "42",
    title: "should enforce policy based on NamespaceSelector with MatchExpressions using default ns label",
    steps: () =>
      one(
        "x/a egress to namespaces NotIn [y]",
        [
          np("x", "allow-client-a-via-ns-selector", {
            podSelector: pod("a"),
            policyTypes: ["Egress"],
            egress: [
              {
                to: [
                  {
                    namespaceSelector: {
                      matchExpressions: [
                        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["y"] },
                      ],
                    },
                  },
                ],
              },
            ],
          }),
        ],
        [
          tcp(
            80,
            reach((r) => r.expectPeer({ namespace: "x", pod: "a" }, { namespace: "y" }, false)),
          ),
        ],
      ),
  },
  // ---------------- UDP and SCTP: "NetworkPolicy between server and client using UDP|SCTP" ----------------
  ...otherProtocolCases("UDP", ["43", "44", "45"], "allow-ingress-on-port-81-ns-x"),
  ...otherProtocolCases("SCTP", ["46", "47", "48"], "allow-only-sctp-ingress-on-port-81"),
];

/** Behaviours the upstream suite does not check (NETPOL-E2E-CASES.md, last section). */
export const EXTRA_CASES: NetpolCase[] = [
  {
    id: "endport",
    title: "endPort ranges are enforced on the data path (TCP and UDP, both ends of the range inclusive)",
    steps: () => [
      {
        what: "x/a: TCP 70-80, UDP 81-90",
        apply: [
          np("x", "ranges", {
            podSelector: pod("a"),
            ingress: [{ ports: [port(70, "TCP", 80), port(81, "UDP", 90)] }],
          }),
        ],
        checks: [tcp(80, ALL_OPEN()), tcp(81, xaOnlyFrom()), udp(80, xaOnlyFrom()), udp(81, ALL_OPEN())],
      },
      {
        what: "updated: x/a TCP 81-90, UDP 79-80",
        apply: [
          np("x", "ranges", {
            podSelector: pod("a"),
            ingress: [{ ports: [port(81, "TCP", 90), port(79, "UDP", 80)] }],
          }),
        ],
        checks: [tcp(80, xaOnlyFrom()), tcp(81, ALL_OPEN()), udp(80, ALL_OPEN()), udp(81, xaOnlyFrom())],
      },
    ],
  },
  {
    id: "replies",
    title:
      "replies of allowed connections pass: to an ingress-isolated client and from an egress-isolated server (TCP and UDP)",
    steps: () => {
      const want = reach((r) => r.expectPeer({}, { namespace: "y" }, false).expectAllEgress("x/a", false));
      return one(
        "deny ingress in y, deny egress of x/a",
        [
          np("y", "deny-ingress", { podSelector: ALL, policyTypes: ["Ingress"] }),
          np("x", "deny-egress-xa", { podSelector: pod("a"), policyTypes: ["Egress"] }),
        ],
        [tcp(80, want), udp(80, want)],
      );
    },
  },
  {
    id: "dual-stack",
    title: "dual-stack: IPv6 pod addresses are in the peer sets, ipBlock families are kept apart",
    steps: (c) => [
      {
        what: "x/a from namespace y only",
        apply: [np("x", "allow-ns-y", aIngressFrom({ namespaceSelector: nsName("y") }))],
        checks: [6, 4].map(
          (family) =>
            ({
              port: 80,
              protocol: "TCP",
              family,
              expect: xaOnlyFromNamespace("y"),
            }) as Check,
        ),
      },
      {
        what: "plus x/b egress only to <y/b IPv6>/128",
        apply: [
          np("x", "xb-to-yb-v6", {
            podSelector: pod("b"),
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: `${c.ip6("y/b")}/128` } }] }],
          }),
        ],
        checks: [
          {
            port: 80,
            protocol: "TCP",
            family: 6,
            expect: reach((r) =>
              r
                .expectAllIngress("x/a", false)
                .expectPeer({ namespace: "y" }, { namespace: "x", pod: "a" }, true)
                .expectAllEgress("x/b", false)
                .expect("x/b", "y/b", true),
            ),
          },
          {
            // The IPv6 block does not cover y/b's IPv4 address.
            port: 80,
            protocol: "TCP",
            family: 4,
            expect: reach((r) =>
              r
                .expectAllIngress("x/a", false)
                .expectPeer({ namespace: "y" }, { namespace: "x", pod: "a" }, true)
                .expectAllEgress("x/b", false),
            ),
          },
        ],
      },
    ],
  },
];
