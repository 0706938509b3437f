import type { FieldErrors } from "./field-errors.ts";
import type {
  NetworkPolicyEgressRule,
  NetworkPolicyIngressRule,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicySpec,
} from "./k8s-resources.ts";
import { readFields } from "./read-fields.ts";
import { validateLabelSelector } from "./validate-label-selector.ts";
import { validateNetworkPolicyPeer } from "./validate-network-policy-peer.ts";
import { validateNetworkPolicyPort } from "./validate-network-policy-port.ts";

type Direction = "Ingress" | "Egress";
const DIRECTIONS: readonly Direction[] = ["Ingress", "Egress"];

/**
 * networking.k8s.io/v1 NetworkPolicySpec, validated and defaulted the way the API server does:
 * policyTypes defaults to [Ingress], plus Egress only when `egress` has rules; every port gets
 * its protocol (TCP). Unknown fields are errors: a misspelt key would silently change isolation.
 */
export function validateNetworkPolicySpec(raw: unknown, errs: FieldErrors): NetworkPolicySpec {
  const o =
    readFields.object(raw ?? {}, "spec", errs, ["podSelector", "policyTypes", "ingress", "egress"]) ?? {};
  const spec: NetworkPolicySpec = {
    podSelector: validateLabelSelector(o.podSelector, "spec.podSelector", errs),
  };
  const ingress = readFields.list(o.ingress, "spec.ingress", errs);
  if (ingress) {
    spec.ingress = ingress.map((r, i): NetworkPolicyIngressRule => {
      const path = `spec.ingress[${i}]`;
      const rule = readFields.object(r ?? {}, path, errs, ["from", "ports"]) ?? {};
      return withRule(
        peers(rule.from, `${path}.from`, errs),
        "from",
        ports(rule.ports, `${path}.ports`, errs),
      );
    });
  }
  const egress = readFields.list(o.egress, "spec.egress", errs);
  if (egress) {
    spec.egress = egress.map((r, i): NetworkPolicyEgressRule => {
      const path = `spec.egress[${i}]`;
      const rule = readFields.object(r ?? {}, path, errs, ["to", "ports"]) ?? {};
      return withRule(peers(rule.to, `${path}.to`, errs), "to", ports(rule.ports, `${path}.ports`, errs));
    });
  }
  const types = readFields.list(o.policyTypes, "spec.policyTypes", errs);
  if (types && types.length > 0) {
    if (types.length > 2) errs.add("spec.policyTypes", `must have at most 2 items, has ${types.length}`);
    spec.policyTypes = [];
    types.forEach((t, i) => {
      const d = DIRECTIONS.find((x) => x === t);
      if (d) spec.policyTypes!.push(d);
      else
        errs.add(
          `spec.policyTypes[${i}]`,
          `unsupported value ${JSON.stringify(t)}: must be Ingress or Egress`,
        );
    });
  } else {
    spec.policyTypes = (spec.egress?.length ?? 0) > 0 ? ["Ingress", "Egress"] : ["Ingress"];
  }
  return spec;
}

function peers(raw: unknown, path: string, errs: FieldErrors): NetworkPolicyPeer[] | undefined {
  return readFields.list(raw, path, errs)?.map((p, i) => validateNetworkPolicyPeer(p, `${path}[${i}]`, errs));
}

function ports(raw: unknown, path: string, errs: FieldErrors): NetworkPolicyPort[] | undefined {
  return readFields.list(raw, path, errs)?.map((p, i) => validateNetworkPolicyPort(p, `${path}[${i}]`, errs));
}

/** A rule object with only the fields that were given: `{}` stays `{}` (allow everything). */
function withRule<K extends "from" | "to">(
  peerList: NetworkPolicyPeer[] | undefined,
  key: K,
  portList: NetworkPolicyPort[] | undefined,
): { [P in K]?: NetworkPolicyPeer[] } & { ports?: NetworkPolicyPort[] } {
  const rule: Record<string, unknown> = {};
  if (peerList) rule[key] = peerList;
  if (portList) rule.ports = portList;
  return rule as { [P in K]?: NetworkPolicyPeer[] } & { ports?: NetworkPolicyPort[] };
}
