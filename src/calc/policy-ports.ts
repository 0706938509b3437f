import type { NetworkPolicyPort, Protocol } from "../model/k8s-resources.ts";

/** One protocol with an inclusive port range (0-65535 = every port of it). */
export interface PortRange {
  protocol: Protocol;
  from: number;
  to: number;
}

/** A named port still to resolve against the destination pod. */
export interface NamedPort {
  protocol: Protocol;
  name: string;
}

export interface SplitPorts {
  /** Each with its position in the rule's `ports` list (provenance). */
  numeric: (PortRange & { index: number })[];
  named: (NamedPort & { index: number })[];
  /** SCTP entries left out because the kernel cannot enforce them. */
  droppedSctp: boolean;
}

const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];

const validPort = (n: unknown): n is number =>
  Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;

/**
 * A rule's ports split into numeric ranges and named ports. Protocol defaults to TCP; a missing
 * port means every port of the protocol; endPort makes an inclusive range. Values the API would
 * have refused throw (the caller reports the policy). With sctp=false, SCTP entries are left out
 * (an SCTP allow then matches nothing; the pod stays isolated).
 */
export function splitPorts(ports: readonly NetworkPolicyPort[], sctp: boolean): SplitPorts {
  const out: SplitPorts = { numeric: [], named: [], droppedSctp: false };
  for (const [index, p] of ports.entries()) {
    const protocol = p.protocol ?? "TCP";
    if (!PROTOCOLS.includes(protocol)) throw new Error(`unknown protocol ${JSON.stringify(p.protocol)}`);
    if (protocol === "SCTP" && !sctp) {
      out.droppedSctp = true;
      continue;
    }
    if (p.port === undefined) {
      if (p.endPort !== undefined) throw new Error("endPort needs a numeric port");
      out.numeric.push({ protocol, from: 0, to: 65535, index });
    } else if (typeof p.port === "string") {
      if (p.endPort !== undefined) throw new Error(`endPort cannot be used with the named port "${p.port}"`);
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.port) || p.port.length > 15) {
        throw new Error(`invalid named port ${JSON.stringify(p.port)}`);
      }
      out.named.push({ protocol, name: p.port, index });
    } else {
      if (!validPort(p.port)) throw new Error(`invalid port ${JSON.stringify(p.port)}`);
      const to = p.endPort ?? p.port;
      if (!validPort(to) || to < p.port) throw new Error(`invalid endPort ${p.endPort} for port ${p.port}`);
      out.numeric.push({ protocol, from: p.port, to, index });
    }
  }
  return out;
}

/** Overlapping or adjacent ranges of a protocol merged (an nft interval set refuses overlaps). */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const out: PortRange[] = [];
  for (const protocol of PROTOCOLS) {
    const mine = ranges.filter((r) => r.protocol === protocol).sort((a, b) => a.from - b.from || a.to - b.to);
    let cur: PortRange | undefined;
    for (const r of mine) {
      if (cur && r.from <= cur.to + 1) cur.to = Math.max(cur.to, r.to);
      else {
        if (cur) out.push(cur);
        cur = { protocol: r.protocol, from: r.from, to: r.to };
      }
    }
    if (cur) out.push(cur);
  }
  return out;
}
