// Kubernetes' own syntax rules (apimachinery util/validation), each returning the reason a value
// is invalid, or undefined when it is fine. The reasons read like the API server's, so a user who
// knows kubectl's messages recognises ours.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function dns1123Label(v: string): string | undefined {
  if (v.length > 63) return "must be no more than 63 characters";
  if (!DNS1123_LABEL.test(v)) {
    return "must be a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit";
  }
  return undefined;
}

function dns1123Subdomain(v: string): string | undefined {
  if (v.length > 253) return "must be no more than 253 characters";
  if (!DNS1123_SUBDOMAIN.test(v)) {
    return "must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', starting and ending with a letter or digit";
  }
  return undefined;
}

/** A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 characters. */
function labelKey(v: string): string | undefined {
  const parts = v.split("/");
  if (parts.length > 2) return "a label key may contain at most one '/' (prefix/name)";
  const name = parts.at(-1) ?? "";
  if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    if (prefix === "") return "the prefix before '/' must not be empty";
    const p = dns1123Subdomain(prefix);
    if (p) return `prefix "${prefix}" ${p}`;
  }
  if (name === "") return "the name part must not be empty";
  if (name.length > 63) return "the name part must be no more than 63 characters";
  if (!QUALIFIED_NAME.test(name)) {
    return "the name part must consist of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric";
  }
  return undefined;
}

function labelValue(v: string): string | undefined {
  if (v.length > 63) return "must be no more than 63 characters";
  if (v !== "" && !QUALIFIED_NAME.test(v)) {
    return "must be empty or consist of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric";
  }
  return undefined;
}

/** IANA_SVC_NAME (RFC 6335): what a named port may be called. */
function portName(v: string): string | undefined {
  if (v.length === 0 || v.length > 15) return "must be 1 to 15 characters";
  if (!/^[-a-z0-9]+$/.test(v)) return "must contain only lower case letters (a-z), digits (0-9) and '-'";
  if (!/[a-z]/.test(v)) return "must contain at least one letter (a-z)";
  if (v.includes("--")) return "must not contain consecutive hyphens";
  if (v.startsWith("-") || v.endsWith("-")) return "must not begin or end with a hyphen";
  return undefined;
}

function portNumber(v: number): string | undefined {
  return Number.isInteger(v) && v >= 1 && v <= 65535 ? undefined : "must be between 1 and 65535, inclusive";
}

export const k8sSyntax = { dns1123Label, dns1123Subdomain, labelKey, labelValue, portName, portNumber };
