import { isIpv4Text, parseIp } from "./ip.ts";
import { k8sSyntax } from "./k8s-syntax.ts";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const TOP = new Set(["apiVersion", "kind", "metadata", "spec", "status"]);
/** Metadata keys this check knows; any other (generateName, managedFields…) goes the full way. */
const META = new Set(["name", "namespace", "labels", "annotations", "resourceVersion", "uid"]);
const PHASES = new Set(["Pending", "Running", "Succeeded", "Failed", "Unknown"]);
const PROTOCOLS = new Set(["TCP", "UDP", "SCTP"]);
const DIGITS = /^[0-9]+$/;

/** Every own value a string, every key a label key (and every value a label value when asked). */
function plainStringMap(v: unknown, values: boolean): boolean {
  if (v === undefined || v === null) return true;
  if (!isObj(v)) return false;
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (typeof x !== "string" || k8sSyntax.labelKey(k) !== undefined) return false;
    if (values && k8sSyntax.labelValue(x) !== undefined) return false;
  }
  return true;
}

function plainContainer(c: unknown, portNames: Set<string>): boolean {
  if (!isObj(c)) return false;
  if (typeof c.name !== "string" || k8sSyntax.dns1123Label(c.name) !== undefined) return false;
  const ports = c.ports;
  if (ports === undefined || ports === null) return true;
  if (!Array.isArray(ports)) return false;
  for (const p of ports) {
    if (!isObj(p)) return false;
    const n = p.containerPort;
    if (typeof n !== "number" || k8sSyntax.portNumber(n) !== undefined) return false;
    if (p.protocol !== undefined && !PROTOCOLS.has(p.protocol as string)) return false;
    if (p.name !== undefined) {
      if (typeof p.name !== "string" || k8sSyntax.portName(p.name) !== undefined) return false;
      if (portNames.has(p.name)) return false;
      portNames.add(p.name);
    }
  }
  return true;
}

function plainStatus(s: unknown): boolean {
  if (s === undefined || s === null) return true;
  if (!isObj(s)) return false;
  if (s.phase !== undefined && !PHASES.has(s.phase as string)) return false;
  const ips = s.podIPs;
  if (ips === undefined || ips === null) return true;
  if (!Array.isArray(ips)) return false;
  for (const e of ips) {
    if (!isObj(e)) return false;
    for (const k of Object.keys(e)) if (k !== "ip") return false;
    const ip = e.ip;
    if (typeof ip !== "string" || ip.trim() !== ip) return false;
    if (isIpv4Text(ip)) continue;
    try {
      parseIp(ip);
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * True only when parseK8sObject would accept this Pod without a single error: the same checks
 * (k8sSyntax's rules, parseIp, the same required fields) walked without building the validated
 * copy, field paths or error lists, which cost most of the agent's ingestion of a full sync
 * (10k pods). false means "not plainly valid": the caller runs the full validation, which says
 * what is wrong, so a false never changes a verdict — a true must never be given for a pod the
 * full validation refuses (test/unit/pod-plainly-valid.test.ts checks both on mutated pods).
 * Anything unusual (an unknown key, generateName, a number where a string goes) answers false.
 */
export function podPlainlyValid(raw: unknown): boolean {
  if (!isObj(raw)) return false;
  for (const k of Object.keys(raw)) if (!TOP.has(k)) return false;
  if (raw.kind !== "Pod" || raw.apiVersion !== "v1") return false;
  const m = raw.metadata;
  if (!isObj(m)) return false;
  for (const k of Object.keys(m)) if (!META.has(k)) return false;
  if (typeof m.name !== "string" || k8sSyntax.dns1123Subdomain(m.name) !== undefined) return false;
  const ns = m.namespace;
  if (ns !== undefined && ns !== "" && (typeof ns !== "string" || k8sSyntax.dns1123Label(ns) !== undefined))
    return false;
  if (!plainStringMap(m.labels, true) || !plainStringMap(m.annotations, false)) return false;
  const rv = m.resourceVersion;
  if (rv !== undefined && rv !== "" && !DIGITS.test(String(rv))) return false;
  const spec = raw.spec ?? {};
  if (!isObj(spec)) return false;
  const node = spec.nodeName;
  if (
    node !== undefined &&
    node !== null &&
    node !== "" &&
    (typeof node !== "string" || k8sSyntax.dns1123Subdomain(node) !== undefined)
  )
    return false;
  if (spec.hostNetwork !== undefined && typeof spec.hostNetwork !== "boolean") return false;
  const containers = spec.containers;
  if (containers !== undefined && containers !== null) {
    if (!Array.isArray(containers)) return false;
    const portNames = new Set<string>();
    for (const c of containers) if (!plainContainer(c, portNames)) return false;
  }
  return plainStatus(raw.status);
}
