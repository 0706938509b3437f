import type { FieldErrors } from "./field-errors.ts";
import type { NetworkPolicyPort, Protocol } from "./k8s-resources.ts";
import { k8sSyntax } from "./k8s-syntax.ts";
import { readFields } from "./read-fields.ts";

const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];

/**
 * One entry of `ports`: protocol (default TCP), port as a number 1–65535 or an IANA_SVC_NAME
 * named port, endPort only with a numeric port and never below it (upstream's rules, incl. the
 * "Netpol API" e2e cases).
 */
export function validateNetworkPolicyPort(raw: unknown, path: string, errs: FieldErrors): NetworkPolicyPort {
  const o = readFields.object(raw, path, errs, ["protocol", "port", "endPort"]) ?? {};
  let protocol: Protocol = "TCP";
  if (o.protocol !== undefined && o.protocol !== null) {
    const p = PROTOCOLS.find((x) => x === o.protocol);
    if (p) protocol = p;
    else
      errs.add(
        `${path}.protocol`,
        `unsupported value ${JSON.stringify(o.protocol)}: must be one of TCP, UDP, SCTP`,
      );
  }
  const out: NetworkPolicyPort = { protocol };
  const port = o.port ?? undefined;
  if (typeof port === "number") {
    errs.check(`${path}.port`, port, k8sSyntax.portNumber(port));
    out.port = port;
  } else if (typeof port === "string") {
    errs.check(`${path}.port`, port, k8sSyntax.portName(port));
    out.port = port;
  } else if (port !== undefined) {
    errs.add(`${path}.port`, `must be a port number or a port name, not ${readFields.kindOf(port)}`);
  }
  const endPort = o.endPort ?? undefined;
  if (endPort !== undefined) {
    if (typeof endPort !== "number") {
      errs.add(`${path}.endPort`, `must be a port number, not ${readFields.kindOf(endPort)}`);
    } else if (port === undefined) {
      errs.add(`${path}.endPort`, "may not be specified when port is not specified");
    } else if (typeof port === "string") {
      errs.add(`${path}.endPort`, "may not be specified when port is a named port (non-numeric)");
    } else if (k8sSyntax.portNumber(endPort)) {
      errs.check(`${path}.endPort`, endPort, k8sSyntax.portNumber(endPort));
    } else if (typeof port === "number" && endPort < port) {
      errs.add(`${path}.endPort`, `must be >= port (${port})`);
    }
    if (typeof endPort === "number") out.endPort = endPort;
  }
  return out;
}
