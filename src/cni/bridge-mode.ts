import type { KernelOp } from "../dataplane/kernel-op.ts";
import { parseCidr } from "../model/cidr.ts";
import { formatIp } from "../model/ip.ts";
import { stableMac } from "../model/mac-address.ts";
import type { PodPlan, PodWiring } from "./pod-plan.ts";

export interface BridgeOptions {
  bridge: string;
  bridgeExists: boolean;
  hairpin: boolean;
  /** Enable forwarding (pods must reach beyond the bridge, e.g. with ipMasq). */
  forward: boolean;
}

/**
 * Bridge mode, like the reference bridge plugin with isGateway: an L2 bridge holding each range's
 * gateway address, one veth per pod as a bridge port (hairpin on), and the pod routing through
 * the gateway. The bridge gets a fixed MAC so its address does not change as ports come and go.
 */
export function planBridge(w: PodWiring, o: BridgeOptions): PodPlan {
  const host: KernelOp[] = [];
  if (!o.bridgeExists) host.push({ op: "bridge-add", name: o.bridge, mtu: w.mtu, mac: stableMac(o.bridge) });
  host.push({ op: "link-set", name: o.bridge, up: true });
  for (const a of w.addresses) {
    if (!a.gateway) continue;
    const prefix = parseCidr(a.cidr).prefix;
    const gw = formatIp(parseCidr(`${a.gateway}/${prefix}`).ip);
    host.push({
      op: "addr-add",
      dev: o.bridge,
      cidr: `${gw}/${prefix}`,
      replace: true,
      nodad: a.family === 6,
    });
  }
  host.push({
    op: "veth-add",
    name: w.hostIfname,
    peer: w.ifname,
    peerNetns: w.netns,
    mtu: w.mtu,
    mac: w.hostMac,
    peerMac: w.podMac,
  });
  host.push({ op: "link-set", name: w.hostIfname, master: o.bridge, up: true });
  if (o.hairpin) host.push({ op: "link-set", name: w.hostIfname, hairpin: true });

  const pod: KernelOp[] = [];
  for (const a of w.addresses)
    pod.push({ op: "addr-add", dev: w.ifname, cidr: a.cidr, nodad: a.family === 6 });
  pod.push({ op: "link-set", name: w.ifname, up: true });
  for (const r of w.routes) {
    pod.push({
      op: "route-add",
      dst: r.dst,
      family: r.family,
      dev: w.ifname,
      ...(r.via ? { via: r.via } : {}),
      // append: a pod attached twice keeps the first interface's routes (CNI allows several attachments).
      append: true,
    });
  }

  const sysctls: PodPlan["sysctls"] = [];
  if (o.forward) {
    if (w.addresses.some((a) => a.family === 4)) sysctls.push({ key: "net/ipv4/ip_forward", value: "1" });
    if (w.addresses.some((a) => a.family === 6))
      sysctls.push({ key: "net/ipv6/conf/all/forwarding", value: "1" });
  }
  return { host, pod, sysctls };
}
