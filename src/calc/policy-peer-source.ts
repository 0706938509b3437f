import type { IpFamily } from "../model/ip.ts";
import type { Protocol } from "../model/k8s-resources.ts";
import { type PeerKey, peerSelects } from "./policy-peer-key.ts";
import { type PolicyPod, podIps } from "./policy-pods.ts";
import type { AddrPortElement } from "./policy-set.ts";

/** A `pods4-…` set's elements: the pods' IPs of one family, unique, sorted. */
export function podSetElements(pods: Iterable<PolicyPod>, f: IpFamily): string[] {
  // Sorted, then duplicates (pods sharing an address while IPs conflict) dropped side by side:
  // no Set of thousands of addresses for a first compile's big peers.
  const els: string[] = [];
  for (const pod of pods) for (const ip of podIps(pod, f)) els.push(ip);
  els.sort();
  let n = 0;
  for (const ip of els) if (n === 0 || els[n - 1] !== ip) els[n++] = ip;
  els.length = n;
  return els;
}

/** An `nport4-…` set's elements: (ip, proto, port) of the pods having that named port, sorted. */
export function namedPortElements(
  pods: Iterable<PolicyPod>,
  protocol: Protocol,
  portName: string,
  f: IpFamily,
): AddrPortElement[] {
  const els = new Map<string, AddrPortElement>();
  for (const pod of pods) {
    for (const port of pod.ports) {
      if (port.name !== portName || port.protocol !== protocol) continue;
      for (const ip of podIps(pod, f)) els.set(`${ip}|${port.port}`, { addr: ip, protocol, port: port.port });
    }
  }
  return [...els.values()].sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : a.port - b.port));
}

/**
 * Where the elements of selector-peer sets come from: evaluated from scratch per compile
 * (FullPeerSource, the reference) or kept up to date between compiles (IncrementalPolicy).
 * `text` is peerKeyText(p). The arrays returned are not modified by the caller.
 */
export interface PeerSource {
  podSetElements(p: PeerKey, text: string, f: IpFamily): string[];
  namedPortElements(
    p: PeerKey,
    text: string,
    protocol: Protocol,
    portName: string,
    f: IpFamily,
  ): AddrPortElement[];
}

/** Every peer evaluated against every pod, once per compile. */
export class FullPeerSource implements PeerSource {
  private readonly members = new Map<string, PolicyPod[]>();

  constructor(
    private readonly pods: readonly PolicyPod[],
    private readonly nsLabels: ReadonlyMap<string, Record<string, string>>,
  ) {}

  private peerPods(p: PeerKey, text: string): PolicyPod[] {
    let m = this.members.get(text);
    if (!m) {
      m = this.pods.filter((pod) => peerSelects(p, pod, (ns) => this.nsLabels.get(ns)));
      this.members.set(text, m);
    }
    return m;
  }

  podSetElements(p: PeerKey, text: string, f: IpFamily): string[] {
    return podSetElements(this.peerPods(p, text), f);
  }

  namedPortElements(
    p: PeerKey,
    text: string,
    protocol: Protocol,
    portName: string,
    f: IpFamily,
  ): AddrPortElement[] {
    return namedPortElements(this.peerPods(p, text), protocol, portName, f);
  }
}
