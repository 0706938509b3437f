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
  numeric: PortRange[];
  named: NamedPort[];
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
  for (const p of ports) {
    const protocol = p.protocol ?? "TCP";
    if (!PROTOCOLS.includes(protocol)) throw new Error(`unknown protocol ${JSON.stringify(p.protocol)}`);
    if (protocol === "SCTP" && !sctp) {
      out.droppedSctp = true;
      continue;
    }
    if (p.port === undefined) {
      if (p.endPort !== undefined) throw new Error("endPort needs a numeric port");
      out.numeric.push({ protocol, from: 0, to: 65535 });
    } else if (typeof p.port === "string") {
      if (p.endPort !== undefined) throw new Error(`endPort cannot be used with the named port "${p.port}"`);
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.port) || p.port.length > 15) {
        throw new Error(`invalid named port ${JSON.stringify(p.port)}`);
      }
      out.named.push({ protocol, name: p.port });
    } else {
      if (!validPort(p.port)) throw new Error(`invalid port ${JSON.stringify(p.port)}`);
      const to = p.endPort ?? p.port;
      if (!validPort(to) || to < p.port) throw new Error(`invalid endPort ${p.endPort} for port ${p.port}`);
      out.numeric.push({ protocol, from: p.port, to });
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
        cur = { ...r };
      }
    }
    if (cur) out.push(cur);
  }
  return out;
}

const nftProto = (p: Protocol): string => p.toLowerCase();
const portText = (r: PortRange): string => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`);

/**
 * The nft match for a list of ranges (merged first): `meta l4proto tcp th dport 80`,
 * `meta l4proto { tcp, udp }` (whole protocols), or one anonymous concatenated set
 * `meta l4proto . th dport { tcp . 80, udp . 1000-2000 }`: one lookup whatever the list's length.
 * `th dport` reads the destination port of TCP, UDP and SCTP alike.
 */
export function renderPortMatch(ranges: readonly PortRange[]): string {
  const merged = mergeRanges(ranges);
  if (merged.length === 0) throw new Error("no port range to match");
  if (merged.every((r) => r.from === 0 && r.to === 65535)) {
    const protos = merged.map((r) => nftProto(r.protocol));
    return protos.length === 1 ? `meta l4proto ${protos[0]}` : `meta l4proto { ${protos.join(", ")} }`;
  }
  if (merged.length === 1) {
    const r = merged[0] as PortRange;
    return `meta l4proto ${nftProto(r.protocol)} th dport ${portText(r)}`;
  }
  return `meta l4proto . th dport { ${merged.map((r) => `${nftProto(r.protocol)} . ${portText(r)}`).join(", ")} }`;
}

export { nftProto };
