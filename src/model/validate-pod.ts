import type { FieldErrors } from "./field-errors.ts";
import { parseIp } from "./ip.ts";
import type { PodSpec, PodStatus, Protocol } from "./k8s-resources.ts";
import { k8sSyntax } from "./k8s-syntax.ts";
import { readFields } from "./read-fields.ts";

const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Unknown"] as const;
const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];

type Obj = Record<string, unknown>;

/**
 * The parts of a Pod tartan reads (nodeName, hostNetwork, containers[].ports for named ports)
 * are validated and defaulted (port protocol TCP); every other field of a real pod spec (image,
 * command, volumes, …) is kept as written, so the YAML given to kubectl applies unchanged.
 */
export function validatePodSpec(raw: unknown, errs: FieldErrors): PodSpec {
  const o = readFields.object(raw ?? {}, "spec", errs) ?? {};
  const spec: PodSpec & Obj = { ...o };
  if (o.nodeName !== undefined && o.nodeName !== null && o.nodeName !== "") {
    const n = readFields.string(o.nodeName, "spec.nodeName", errs);
    if (n !== undefined) errs.check("spec.nodeName", n, k8sSyntax.dns1123Subdomain(n));
  }
  if (o.hostNetwork !== undefined && typeof o.hostNetwork !== "boolean") {
    errs.add("spec.hostNetwork", `must be true or false, not ${readFields.kindOf(o.hostNetwork)}`);
  }
  const containers = readFields.list(o.containers, "spec.containers", errs);
  if (containers) {
    const portNames = new Set<string>();
    spec.containers = containers.map((c, i) => container(c, `spec.containers[${i}]`, portNames, errs));
  }
  return spec;
}

function container(raw: unknown, path: string, portNames: Set<string>, errs: FieldErrors) {
  const o = readFields.object(raw, path, errs) ?? {};
  const name = readFields.string(o.name, `${path}.name`, errs) ?? "";
  if (o.name !== undefined) errs.check(`${path}.name`, name, k8sSyntax.dns1123Label(name));
  const ports = readFields.list(o.ports, `${path}.ports`, errs);
  const out: Obj & {
    name: string;
    ports?: NonNullable<NonNullable<PodSpec["containers"]>[number]["ports"]>;
  } = {
    ...o,
    name,
  };
  if (ports) {
    out.ports = ports.map((p, j) => {
      const f = `${path}.ports[${j}]`;
      const po = readFields.object(p, f, errs) ?? {};
      const containerPort = typeof po.containerPort === "number" ? po.containerPort : 0;
      // Field paths are built only for an error: this runs for every port of every ingested pod.
      if (po.containerPort === undefined) errs.add(`${f}.containerPort`, "Required value");
      else {
        const bad = k8sSyntax.portNumber(containerPort);
        if (bad !== undefined) errs.check(`${f}.containerPort`, po.containerPort, bad);
      }
      let protocol: Protocol = "TCP";
      if (po.protocol !== undefined) {
        const pr = PROTOCOLS.includes(po.protocol as Protocol) ? (po.protocol as Protocol) : undefined;
        if (pr) protocol = pr;
        else
          errs.add(
            `${f}.protocol`,
            `unsupported value ${JSON.stringify(po.protocol)}: must be one of TCP, UDP, SCTP`,
          );
      }
      const port: Obj & { containerPort: number; protocol: Protocol; name?: string } = {
        ...po,
        containerPort,
        protocol,
      };
      if (po.name !== undefined) {
        const n = typeof po.name === "string" ? po.name : readFields.string(po.name, `${f}.name`, errs);
        if (n !== undefined) {
          const bad = k8sSyntax.portName(n);
          if (bad !== undefined) errs.check(`${f}.name`, n, bad);
          // Named ports resolve by name across the whole pod: two meanings would be ambiguous.
          if (portNames.has(n)) errs.add(`${f}.name`, `duplicate port name "${n}" in this pod`);
          portNames.add(n);
          port.name = n;
        }
      }
      return port;
    });
  }
  return out;
}

/** status: phase and podIPs (what the agent or a test sets; kubelet's job in a real cluster). */
export function validatePodStatus(raw: unknown, errs: FieldErrors): PodStatus | undefined {
  if (raw === undefined || raw === null) return undefined;
  const o = readFields.object(raw, "status", errs) ?? {};
  const status: PodStatus & Obj = { ...o };
  if (o.phase !== undefined) {
    const phase = PHASES.find((p) => p === o.phase);
    if (phase) status.phase = phase;
    else
      errs.add(
        "status.phase",
        `unsupported value ${JSON.stringify(o.phase)}: must be one of ${PHASES.join(", ")}`,
      );
  }
  const ips = readFields.list(o.podIPs, "status.podIPs", errs);
  if (ips) {
    status.podIPs = ips.map((entry, i) => {
      const f = `status.podIPs[${i}]`;
      const e = readFields.object(entry, f, errs, ["ip"]) ?? {};
      const ip = typeof e.ip === "string" ? e.ip : (readFields.string(e.ip, `${f}.ip`, errs) ?? "");
      try {
        // parseIp trims; a stored "10.0.0.1\n" is not an address anyone wrote through tartan.
        // (Its own error is replaced below: no field path is made for it.)
        if (e.ip !== undefined && (ip.trim() !== ip || !parseIp(ip))) throw new Error();
      } catch {
        errs.add(`${f}.ip`, `invalid value ${JSON.stringify(ip)}: must be an IP address`);
      }
      return { ip };
    });
  }
  return status;
}
