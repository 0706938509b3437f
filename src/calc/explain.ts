import { TartanError } from "../errors/tartan-error.ts";
import type { IPAMBlockResource, NodeResource } from "../model/cluster-resources.ts";
import { formatIp, type IpFamily, parseIp } from "../model/ip.ts";
import type {
  NamespaceResource,
  NetworkPolicyResource,
  PodResource,
  Protocol,
} from "../model/k8s-resources.ts";
import type { RoutingBackendName } from "../model/routing-backend.ts";
import { compilePolicy } from "./compile-policy.ts";
import { type ExplainPath, explainPath, nodeOfAddress } from "./explain-path.ts";
import { type DecidingRule, decidingRule } from "./explain-rule-text.ts";
import type { PolicyIR } from "./policy-ir.ts";
import type { Direction } from "./policy-names.ts";
import { type PolicyPod, podIps, policyPods } from "./policy-pods.ts";
import { lookupPolicyRules } from "./policy-rule-lookup.ts";

export type { ExplainPath } from "./explain-path.ts";
export type { DecidingRule } from "./explain-rule-text.ts";

/** What an explanation is computed from: the cluster's objects as the agents mirror them. */
export interface ExplainSnapshot {
  pods: readonly PodResource[];
  namespaces: readonly NamespaceResource[];
  policies: readonly NetworkPolicyResource[];
  /** For the path: Node and IPAMBlock objects, and the routing backend of the nodes. */
  nodes?: readonly NodeResource[];
  blocks?: readonly IPAMBlockResource[];
  backend?: RoutingBackendName;
  underlayInterface?: string;
  /** false when the nodes' kernels cannot enforce SCTP (SCTP allows then match nothing). */
  sctp?: boolean;
}

/** ICMP (ping; ICMPv6 for IPv6): allowed only by rules that name no ports. */
export type ExplainProtocol = Protocol | "ICMP";

export interface ExplainQuery {
  /** "NS/POD" or an IP address. */
  src: string;
  dst: string;
  protocol?: ExplainProtocol;
  /** Destination port; absent: the destination pod's first container port, else 8080. */
  port?: number;
}

export interface ExplainEndpoint {
  /** What was asked for. */
  input: string;
  ip: string;
  /** "<ns>/<name>" when the address is a pod's (one policy considers). */
  pod?: string;
  node?: string;
  /** Not a pod: a node's underlay address, or an address outside the cluster's pods. */
  kind: "pod" | "node" | "external";
}

export interface DirectionExplanation {
  /** The pod whose isolation is evaluated (source for egress, destination for ingress). */
  pod?: string;
  /** The node that enforces it (where the pod runs). */
  node?: string;
  isolated: boolean;
  /** "<ns>/<name>" of every policy selecting the pod for this direction. */
  policies: string[];
  verdict: "allowed" | "denied";
  /** The allow rule that matched (absent when not isolated, or denied). */
  rule?: DecidingRule;
  reason: string;
}

export interface Explanation {
  verdict: "allowed" | "denied";
  src: ExplainEndpoint;
  dst: ExplainEndpoint;
  protocol: ExplainProtocol;
  port: number;
  egress: DirectionExplanation;
  ingress: DirectionExplanation;
  path: ExplainPath;
  /** One sentence: the verdict and what decided it. */
  summary: string;
}

const DEFAULT_PORT = 8080;

/**
 * Explains many pairs on one snapshot: each node's policy IR is compiled once, by compilePolicy,
 * the function the agents' IncrementalPolicy is tested equal to, and each direction is read off
 * the IR of the node that enforces it with lookupPolicyRules (egress on the source's node,
 * ingress on the destination's), so the verdict is the one the rendered nftables rules give.
 */
export class Explainer {
  private readonly pods: PolicyPod[];
  private readonly byIp = new Map<string, PolicyPod>();
  private readonly irs = new Map<string, PolicyIR>();

  constructor(readonly snapshot: ExplainSnapshot) {
    this.pods = policyPods(snapshot.pods);
    for (const p of this.pods) for (const ip of [...p.ips4, ...p.ips6]) this.byIp.set(ip, p);
  }

  private ir(node: string): PolicyIR {
    let ir = this.irs.get(node);
    if (!ir) {
      const s = this.snapshot;
      ir = compilePolicy({
        nodeName: node,
        pods: s.pods,
        namespaces: s.namespaces,
        policies: s.policies,
        ...(s.sctp !== undefined ? { sctp: s.sctp } : {}),
      });
      this.irs.set(node, ir);
    }
    return ir;
  }

  /** A pod by "NS/POD" or the endpoint owning an address. */
  private endpoint(text: string, family?: IpFamily): ExplainEndpoint {
    if (text.includes("/")) {
      const pod = this.pods.find((p) => p.key === text);
      if (!pod) {
        const raw = this.snapshot.pods.find(
          (p) => `${p.metadata.namespace ?? "default"}/${p.metadata.name}` === text,
        );
        throw new TartanError(
          "explain-unknown-endpoint",
          raw
            ? `pod ${text} has no address policy considers (no IP yet, hostNetwork, or finished)`
            : `no pod ${text}`,
          "name a pod as NS/POD (tartan get pods -A lists them), or give an IP address",
        );
      }
      const ips = family ? podIps(pod, family) : pod.ips4.length ? pod.ips4 : pod.ips6;
      if (ips.length === 0) {
        throw new TartanError(
          "explain-unknown-endpoint",
          `pod ${text} has no IPv${family} address`,
          "give both ends of the same family (an IPv6 address for a dual-stack pod)",
        );
      }
      return { input: text, ip: ips[0]!, pod: pod.key, ...(pod.node ? { node: pod.node } : {}), kind: "pod" };
    }
    let ip: string;
    try {
      ip = formatIp(parseIp(text));
    } catch {
      throw new TartanError(
        "explain-unknown-endpoint",
        `"${text}" is neither NS/POD nor an IP address`,
        "name a pod as NS/POD, or give an IP address",
      );
    }
    const pod = this.byIp.get(ip);
    if (pod) return { input: text, ip, pod: pod.key, ...(pod.node ? { node: pod.node } : {}), kind: "pod" };
    const node = (this.snapshot.nodes ?? []).find((n) => n.spec.underlayAddress === ip);
    if (node) return { input: text, ip, node: node.metadata.name, kind: "node" };
    return { input: text, ip, kind: "external" };
  }

  explain(q: ExplainQuery): Explanation {
    // Pods first resolve to an address of the other end's family (IPv4 when both are pods).
    const fam = (t: string): IpFamily | undefined => {
      if (t.includes("/")) return undefined;
      try {
        return parseIp(t).family;
      } catch {
        return undefined;
      }
    };
    const family = fam(q.src) ?? fam(q.dst);
    let src = this.endpoint(q.src, family);
    const dst = this.endpoint(q.dst, family ?? parseIp(src.ip).family);
    if (parseIp(src.ip).family !== parseIp(dst.ip).family) src = this.endpoint(q.src, parseIp(dst.ip).family);
    const protocol = q.protocol ?? "TCP";
    const dstPod = dst.pod ? this.pods.find((p) => p.key === dst.pod) : undefined;
    const port =
      protocol === "ICMP"
        ? 0
        : (q.port ?? dstPod?.ports.find((p) => p.protocol === protocol)?.port ?? DEFAULT_PORT);
    const packet = { src: src.ip, dst: dst.ip, protocol, port };

    const egress = this.direction("egress", src, packet);
    const ingress =
      dst.pod && src.kind === "node" && src.node === dst.node
        ? {
            ...this.direction("ingress", dst, packet),
            verdict: "allowed" as const,
            reason: `from its own node ${src.node}: never filtered (kubelet probes)`,
          }
        : this.direction("ingress", dst, packet);
    if (src.pod && src.pod === dst.pod) {
      egress.verdict = ingress.verdict = "allowed";
      egress.reason = ingress.reason = "a pod's traffic to itself never leaves it: never filtered";
      delete egress.rule;
      delete ingress.rule;
    }
    const verdict = egress.verdict === "allowed" && ingress.verdict === "allowed" ? "allowed" : "denied";
    const s = this.snapshot;
    const dstNode = dst.node ?? nodeOfAddress(dst.ip, s.nodes, s.blocks);
    const path = explainPath({
      ...(src.node ? { srcNode: src.node } : {}),
      ...(dstNode ? { dstNode } : {}),
      dstIp: dst.ip,
      dstKind: dst.kind,
      ...(s.nodes ? { nodes: s.nodes } : {}),
      ...(s.blocks ? { blocks: s.blocks } : {}),
      ...(s.backend ? { backend: s.backend } : {}),
      ...(s.underlayInterface ? { underlayInterface: s.underlayInterface } : {}),
    });
    const what = `${src.pod ?? src.ip} → ${dst.pod ?? dst.ip} ${protocol}/${port}`;
    const summary =
      verdict === "allowed"
        ? `${what}: allowed (egress: ${egress.reason}; ingress: ${ingress.reason})`
        : `${what}: denied by ${egress.verdict === "denied" ? `${src.pod}'s egress` : `${dst.pod}'s ingress`} (${(egress.verdict === "denied" ? egress : ingress).reason})`;
    return { verdict, src, dst, protocol, port, egress, ingress, path, summary };
  }

  private direction(
    dir: Direction,
    end: ExplainEndpoint,
    packet: { src: string; dst: string; protocol: ExplainProtocol; port: number },
  ): DirectionExplanation {
    const who = dir === "egress" ? "source" : "destination";
    if (!end.pod) {
      return {
        isolated: false,
        policies: [],
        verdict: "allowed",
        reason: `the ${who} is not a pod: no ${dir} policy`,
      };
    }
    const base = { pod: end.pod, ...(end.node ? { node: end.node } : {}) };
    if (!end.node) {
      return {
        ...base,
        isolated: false,
        policies: [],
        verdict: "allowed",
        reason: `pod ${end.pod} has no node: no agent enforces its ${dir}`,
      };
    }
    const ir = this.ir(end.node);
    const [ns] = end.pod.split("/") as [string];
    const view = ir.pods.find((p) => `${p.namespace}/${p.name}` === end.pod)?.[dir];
    const policies = (view?.policies ?? []).map((n) => `${ns}/${n}`);
    const hit = lookupPolicyRules(ir, packet, dir)[dir];
    if (!hit) {
      return {
        ...base,
        isolated: false,
        policies,
        verdict: "allowed",
        reason: `no policy isolates ${end.pod} for ${dir}`,
      };
    }
    const o = hit.rule.origin;
    if (hit.rule.verdict === "drop") {
      const names = o.kind === "isolation" ? o.policies.map((n) => `${ns}/${n}`) : policies;
      return {
        ...base,
        isolated: true,
        policies: names,
        verdict: "denied",
        reason: `${end.pod} is isolated for ${dir} by ${names.join(", ")} and no rule allows ${packet.protocol}/${packet.port} ${dir === "egress" ? "to" : "from"} ${dir === "egress" ? packet.dst : packet.src}`,
      };
    }
    const rule = decidingRule(hit.rule, this.snapshot.policies, packet);
    return {
      ...base,
      isolated: true,
      policies,
      verdict: "allowed",
      ...(rule ? { rule } : {}),
      reason: rule
        ? `allowed by ${rule.policy} ${rule.text}`
        : `allowed by chain ${hit.chain} rule ${hit.index}`,
    };
  }
}

/** One pair (the web view's click): see Explainer. */
export function explain(snapshot: ExplainSnapshot, q: ExplainQuery): Explanation {
  return new Explainer(snapshot).explain(q);
}
