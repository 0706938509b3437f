import { parseCidr } from "./cidr.ts";
import { KINDS } from "./cluster-resources.ts";
import type { FieldErrors } from "./field-errors.ts";
import { parseIp } from "./ip.ts";
import { k8sSyntax } from "./k8s-syntax.ts";
import { readFields } from "./read-fields.ts";
import { validateNodeBgp } from "./validate-bgp-object.ts";
import { validateObjectMeta } from "./validate-object-meta.ts";

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/**
 * An address exactly as written: parseIp trims, but a stored value with a newline or a space
 * around it was not written by tartan and must not be taken for the address it contains.
 */
function strictIp(v: string, field: string, errs: FieldErrors): void {
  try {
    if (v.trim() !== v) throw new Error("surrounding whitespace");
    parseIp(v, field);
  } catch {
    errs.check(field, v, "must be an IPv4 or IPv6 address");
  }
}

function strictCidr(v: string, field: string, errs: FieldErrors): void {
  try {
    if (v.trim() !== v) throw new Error("surrounding whitespace");
    parseCidr(v, field);
  } catch {
    errs.check(field, v, "must be a CIDR (address/prefix)");
  }
}

/**
 * tartan's own cluster objects (Node, IPAMBlock, IPPool) as the agent reads them back from the
 * datastore: the fields that reach the kernel (underlay address and subnet, VTEP MAC, block CIDR,
 * owner node) must parse, names must be DNS-1123 subdomains (labels are not judged: see below). The agent writes nothing else; an
 * object failing this was written around tartan (see the agent's ingestion, kind-mirror.ts).
 */
export function validateClusterObject(raw: Record<string, unknown>, errs: FieldErrors): void {
  // Labels and annotations of these kinds are read by nothing in tartan; refusing a Node for one
  // would drop every route to that node's blocks (and its own agent's routing), a far bigger
  // outage than the label. Name and spec decide.
  const m = raw.metadata;
  const meta =
    typeof m === "object" && m !== null && !Array.isArray(m)
      ? { ...(m as Record<string, unknown>), labels: undefined, annotations: undefined }
      : m;
  validateObjectMeta(
    meta,
    { namespaced: false, name: k8sSyntax.dns1123Subdomain, defaultNamespace: "" },
    errs,
  );
  const spec = readFields.object(raw.spec, "spec", errs) ?? {};
  const str = (k: string) => readFields.string(spec[k], `spec.${k}`, errs);
  if (raw.kind === KINDS.node) {
    const a = str("underlayAddress");
    if (a !== undefined) strictIp(a, "spec.underlayAddress", errs);
    const s = str("underlaySubnet");
    if (s !== undefined) strictCidr(s, "spec.underlaySubnet", errs);
    if (spec.vtepMac !== undefined) {
      const m = str("vtepMac");
      if (m !== undefined && !MAC.test(m))
        errs.check("spec.vtepMac", m, "must be a MAC address (6 hex octets)");
    }
    if (spec.bgp !== undefined) validateNodeBgp(spec.bgp, "spec.bgp", errs);
  } else if (raw.kind === KINDS.ipamBlock) {
    const c = str("cidr");
    if (c !== undefined) strictCidr(c, "spec.cidr", errs);
    for (const k of ["pool", "node"]) {
      const v = str(k);
      if (v !== undefined) errs.check(`spec.${k}`, v, k8sSyntax.dns1123Subdomain(v));
    }
  } else if (raw.kind === KINDS.ipPool) {
    const c = str("cidr");
    if (c !== undefined) strictCidr(c, "spec.cidr", errs);
    const b = spec.blockSize;
    if (typeof b !== "number" || !Number.isInteger(b) || b < 1 || b > 128) {
      errs.check("spec.blockSize", b, "must be a prefix length between 1 and 128");
    }
    if (spec.natOutgoing !== undefined && typeof spec.natOutgoing !== "boolean") {
      errs.check("spec.natOutgoing", spec.natOutgoing, "must be true or false");
    }
  }
}
