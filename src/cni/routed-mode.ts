import type { KernelOp } from "../dataplane/kernel-op.ts";
import { TARTAN_OWNED } from "../dataplane/tartan-owned.ts";
import type { PodPlan, PodWiring } from "./pod-plan.ts";

/** The gateway every routed pod uses: link-local, the same on every node, answered by the host veth. */
export const ROUTED_GATEWAY_V4 = "169.254.1.1";
/** The EUI-64 link-local address of a link with MAC ee:ee:ee:ee:ee:ee, which the host veth has. */
export const ROUTED_GATEWAY_V6 = "fe80::ecee:eeff:feee:eeee";
export const ROUTED_HOST_MAC = "ee:ee:ee:ee:ee:ee";

/**
 * Routed mode (Calico's design): no bridge. The pod holds a /32 (/128) and a default route via a
 * link-local gateway; the host holds a /32 route to the pod through the host veth and answers
 * for the gateway (proxy ARP for IPv4, its own link-local address for IPv6).
 */
export function planRouted(w: PodWiring): PodPlan {
  const host: KernelOp[] = [
    {
      op: "veth-add",
      name: w.hostIfname,
      peer: w.ifname,
      peerNetns: w.netns,
      mtu: w.mtu,
      mac: ROUTED_HOST_MAC,
      peerMac: w.podMac,
    },
    { op: "link-set", name: w.hostIfname, up: true },
  ];
  for (const a of w.addresses) {
    host.push({
      op: "route-add",
      dst: a.cidr,
      family: a.family,
      dev: w.hostIfname,
      scope: "link",
      proto: TARTAN_OWNED.routeProto,
      replace: true,
    });
    // A static entry: the host never has to resolve the pod, even before IPv6 DAD settles.
    host.push({ op: "neigh-replace", dev: w.hostIfname, ip: a.cidr.split("/")[0]!, mac: w.podMac });
  }

  const pod: KernelOp[] = [];
  for (const a of w.addresses)
    pod.push({ op: "addr-add", dev: w.ifname, cidr: a.cidr, nodad: a.family === 6 });
  pod.push({ op: "link-set", name: w.ifname, up: true });
  if (w.addresses.some((a) => a.family === 4)) {
    pod.push({
      op: "route-add",
      dst: `${ROUTED_GATEWAY_V4}/32`,
      family: 4,
      dev: w.ifname,
      scope: "link",
      append: true,
    });
  }
  // Static entries for the gateways: no ARP/NDP round trip on the pod's first packet, and no
  // dependence on the host's proxy ARP seeing a route to 169.254.1.1.
  if (w.addresses.some((a) => a.family === 4)) {
    pod.push({ op: "neigh-replace", dev: w.ifname, ip: ROUTED_GATEWAY_V4, mac: ROUTED_HOST_MAC });
  }
  if (w.addresses.some((a) => a.family === 6)) {
    pod.push({ op: "neigh-replace", dev: w.ifname, ip: ROUTED_GATEWAY_V6, mac: ROUTED_HOST_MAC });
  }
  for (const r of w.routes) {
    // append: a pod attached twice keeps the first interface's routes (CNI allows several attachments).
    pod.push({ op: "route-add", dst: r.dst, family: r.family, dev: w.ifname, via: r.via, append: true });
  }

  const sysctls: PodPlan["sysctls"] = [];
  if (w.addresses.some((a) => a.family === 4)) {
    sysctls.push({ key: `net/ipv4/conf/${w.hostIfname}/proxy_arp`, value: "1" });
    sysctls.push({ key: `net/ipv4/neigh/${w.hostIfname}/proxy_delay`, value: "0" });
    sysctls.push({ key: "net/ipv4/ip_forward", value: "1" });
  }
  if (w.addresses.some((a) => a.family === 6)) {
    sysctls.push({ key: "net/ipv6/conf/all/forwarding", value: "1" });
  }
  return { host, pod, sysctls };
}
