import {
  BGP_CONFIGURATION_NAME,
  type BGPConfigurationSpec,
  type BGPPeerSpec,
  type BgpKind,
  durationSeconds,
  type NodeBGPSpec,
} from "./bgp-resources.ts";
import type { FieldErrors } from "./field-errors.ts";
import { type Ip, parseIp } from "./ip.ts";
import { k8sSyntax } from "./k8s-syntax.ts";
import { readFields } from "./read-fields.ts";
import { validateLabelSelector } from "./validate-label-selector.ts";

const CONFIG_FIELDS = [
  "asNumber",
  "nodeToNodeMeshEnabled",
  "listenPort",
  "nodeMeshPassword",
  "nodeMeshMaxRestartTime",
];
const PEER_FIELDS = [
  "node",
  "nodeSelector",
  "peerIP",
  "asNumber",
  "peerSelector",
  "password",
  "maxRestartTime",
  "keepaliveTime",
  "sourceAddress",
];
export const NODE_BGP_FIELDS = ["asNumber", "routeReflectorClusterID", "ipv6Address"];

/** 4-byte AS numbers; 23456 is AS_TRANS (RFC 6793), never a real AS. */
export function asNumberProblem(v: unknown): string | undefined {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 4294967295)
    return "must be an AS number, an integer from 1 to 4294967295";
  if (v === 23456) return "23456 is AS_TRANS (RFC 6793), not an AS";
  return undefined;
}

/**
 * TCP-MD5 keys: at most 80 bytes (TCP_MD5SIG_MAXKEYLEN), printable ASCII without quote or
 * backslash, so the text goes into bird.conf's `password "…"` unescaped and unambiguous.
 */
export function passwordProblem(v: unknown): string | undefined {
  if (typeof v !== "string") return "must be a string";
  if (v.length < 1 || v.length > 80) return "must be 1 to 80 characters (TCP-MD5 key length)";
  if (!/^[\x21-\x7e]+$/.test(v) || /["\\]/.test(v)) return 'must be printable ASCII without spaces, " or \\';
  return undefined;
}

/** Dotted IPv4, as BIRD's `rr cluster id` takes it. */
export function clusterIdProblem(v: unknown): string | undefined {
  if (typeof v !== "string" || !/^\d{1,3}(\.\d{1,3}){3}$/.test(v))
    return "must be a dotted IPv4 (e.g. 244.0.0.1)";
  try {
    parseIp(v);
  } catch {
    return "must be a dotted IPv4 (e.g. 244.0.0.1)";
  }
  return undefined;
}

function duration(
  raw: unknown,
  path: string,
  errs: FieldErrors,
  min: number,
  max: number,
): string | undefined {
  const s = readFields.string(raw, path, errs);
  if (s === undefined) return undefined;
  const secs = durationSeconds(s);
  if (secs === undefined) errs.check(path, s, 'must be a duration such as "90s", "2m" or "1m30s"');
  else if (secs < min || secs > max) errs.check(path, s, `must be between ${min} s and ${max} s`);
  return s;
}

/** `IP`, `IPv4:PORT`, `[IPv6]:PORT` → address and optional port; undefined when malformed. */
export function parsePeerIP(text: string): { ip: Ip; port?: number } | undefined {
  const bracket = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text);
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  const [addr, port] = bracket
    ? [bracket[1]!, bracket[2]]
    : v4port
      ? [v4port[1]!, v4port[2]]
      : [text, undefined];
  try {
    if (addr.trim() !== addr) return undefined;
    const ip = parseIp(addr);
    if (bracket && ip.family !== 6) return undefined;
    if (port === undefined) return { ip };
    const p = Number(port);
    if (p < 1 || p > 65535) return undefined;
    return { ip, port: p };
  } catch {
    return undefined;
  }
}

function int(raw: unknown, path: string, errs: FieldErrors, problem: (v: unknown) => string | undefined) {
  errs.check(path, raw, problem(raw));
  return raw as number;
}

/**
 * The spec of a BGPConfiguration or BGPPeer, every problem as `spec.field: reason` (the same
 * checks for `tartan apply` and for what the agent reads back from the datastore). Only the
 * fields that were given are returned: defaults are applied where they are used (calc).
 */
export function validateBgpSpec(kind: BgpKind, name: string, raw: unknown, errs: FieldErrors): object {
  if (kind === "BGPConfiguration") {
    if (name !== "" && name !== BGP_CONFIGURATION_NAME)
      errs.add("metadata.name", `must be "${BGP_CONFIGURATION_NAME}": BGPConfiguration is a singleton`);
    const o = readFields.object(raw ?? {}, "spec", errs, CONFIG_FIELDS) ?? {};
    const out: BGPConfigurationSpec = {};
    if (o.asNumber !== undefined) out.asNumber = int(o.asNumber, "spec.asNumber", errs, asNumberProblem);
    if (o.nodeToNodeMeshEnabled !== undefined) {
      if (typeof o.nodeToNodeMeshEnabled !== "boolean")
        errs.add("spec.nodeToNodeMeshEnabled", "must be true or false");
      out.nodeToNodeMeshEnabled = o.nodeToNodeMeshEnabled as boolean;
    }
    if (o.listenPort !== undefined)
      out.listenPort = int(o.listenPort, "spec.listenPort", errs, (v) =>
        typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535
          ? undefined
          : "must be a port, 1 to 65535",
      );
    if (o.nodeMeshPassword !== undefined) {
      errs.check("spec.nodeMeshPassword", "(hidden)", passwordProblem(o.nodeMeshPassword));
      out.nodeMeshPassword = o.nodeMeshPassword as string;
    }
    if (o.nodeMeshMaxRestartTime !== undefined) {
      const d = duration(o.nodeMeshMaxRestartTime, "spec.nodeMeshMaxRestartTime", errs, 1, 4095);
      if (d !== undefined) out.nodeMeshMaxRestartTime = d;
    }
    return out;
  }
  const o = readFields.object(raw ?? {}, "spec", errs, PEER_FIELDS) ?? {};
  const out: BGPPeerSpec = {};
  if (o.node !== undefined) {
    const n = readFields.string(o.node, "spec.node", errs);
    if (n !== undefined) {
      errs.check("spec.node", n, k8sSyntax.dns1123Subdomain(n));
      out.node = n;
    }
  }
  if (o.nodeSelector !== undefined && o.nodeSelector !== null) {
    if (o.node !== undefined) errs.add("spec.nodeSelector", "give node or nodeSelector, not both");
    out.nodeSelector = validateLabelSelector(o.nodeSelector, "spec.nodeSelector", errs);
  }
  const hasPeerIP = o.peerIP !== undefined;
  const hasSelector = o.peerSelector !== undefined && o.peerSelector !== null;
  if (hasPeerIP === hasSelector) {
    errs.add(
      hasPeerIP ? "spec.peerSelector" : "spec.peerIP",
      "give exactly one of peerIP (an external router) and peerSelector (other nodes)",
    );
  }
  if (hasPeerIP) {
    const p = readFields.string(o.peerIP, "spec.peerIP", errs);
    if (p !== undefined) {
      if (!parsePeerIP(p)) errs.check("spec.peerIP", p, "must be IP, IPv4:PORT or [IPv6]:PORT");
      out.peerIP = p;
    }
    if (o.asNumber === undefined)
      errs.add("spec.asNumber", "Required value (the AS of the router at peerIP)");
  }
  if (o.asNumber !== undefined) {
    if (hasSelector)
      errs.add("spec.asNumber", "not allowed with peerSelector: selected nodes use their own AS");
    out.asNumber = int(o.asNumber, "spec.asNumber", errs, asNumberProblem);
  }
  if (hasSelector) out.peerSelector = validateLabelSelector(o.peerSelector, "spec.peerSelector", errs);
  if (o.password !== undefined) {
    errs.check("spec.password", "(hidden)", passwordProblem(o.password));
    out.password = o.password as string;
  }
  if (o.maxRestartTime !== undefined) {
    const d = duration(o.maxRestartTime, "spec.maxRestartTime", errs, 1, 4095);
    if (d !== undefined) out.maxRestartTime = d;
  }
  if (o.keepaliveTime !== undefined) {
    const d = duration(o.keepaliveTime, "spec.keepaliveTime", errs, 1, 21845);
    if (d !== undefined) out.keepaliveTime = d;
  }
  if (o.sourceAddress !== undefined) {
    if (o.sourceAddress !== "UseNodeIP" && o.sourceAddress !== "None")
      errs.check("spec.sourceAddress", o.sourceAddress, "must be UseNodeIP or None");
    out.sourceAddress = o.sourceAddress as "UseNodeIP" | "None";
  }
  return out;
}

/** A Node's `spec.bgp` (agent config `bgp`): AS, route reflector cluster ID, IPv6 next hop. */
export function validateNodeBgp(raw: unknown, path: string, errs: FieldErrors): NodeBGPSpec {
  const o = readFields.object(raw, path, errs, NODE_BGP_FIELDS) ?? {};
  const out: NodeBGPSpec = {};
  if (o.asNumber !== undefined) out.asNumber = int(o.asNumber, `${path}.asNumber`, errs, asNumberProblem);
  if (o.routeReflectorClusterID !== undefined) {
    errs.check(
      `${path}.routeReflectorClusterID`,
      o.routeReflectorClusterID,
      clusterIdProblem(o.routeReflectorClusterID),
    );
    out.routeReflectorClusterID = o.routeReflectorClusterID as string;
  }
  if (o.ipv6Address !== undefined) {
    const s = readFields.string(o.ipv6Address, `${path}.ipv6Address`, errs);
    let ok = false;
    try {
      ok = s !== undefined && s.trim() === s && parseIp(s).family === 6;
    } catch {}
    if (s !== undefined && !ok) errs.check(`${path}.ipv6Address`, s, "must be an IPv6 address");
    if (s !== undefined) out.ipv6Address = s;
  }
  return out;
}
