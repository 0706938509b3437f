import type { DesiredState } from "../calc/desired-kernel-state.ts";
import type { RouteInfo } from "../dataplane/kernel-op.ts";
import { TARTAN_OWNED } from "../dataplane/tartan-owned.ts";
import type { ActualKernelState } from "./kernel-diff.ts";

/**
 * What a read-back of the kernel would return of tartan's inter-node state right after a desired
 * state was written in full (no conflict, no failure, no drift since): the shape diffKernelState
 * takes, so the reconciler can diff a new desired state against the one it last wrote without
 * dumping the kernel, and get exactly the ops a read-back would give (property-tested against the
 * fake kernel). Only the fields the diff compares are filled in.
 */
export function writtenKernelState(s: DesiredState): ActualKernelState {
  const device = s.vxlan?.name ?? TARTAN_OWNED.vxlanDevice;
  const routes = s.routes.map((r) => {
    const info: RouteInfo = {
      dst: r.dst,
      family: r.family,
      scope: "global",
      proto: TARTAN_OWNED.routeProto,
      // The kernel's default metrics: IPv6 routes read back with 1024.
      metric: r.family === 6 ? 1024 : 0,
      table: 254,
    };
    if (r.type === "blackhole") info.type = "blackhole";
    if (r.via !== undefined) info.via = r.via;
    if (r.dev !== undefined) info.dev = r.dev;
    if (r.onlink) info.onlink = true;
    return info;
  });
  const v = s.vxlan;
  if (!v) return { routes, neighbours: [], fdb: [] };
  return {
    vxlan: {
      name: v.name,
      index: 0,
      kind: "vxlan",
      mtu: v.mtu,
      mac: v.mac.toLowerCase(),
      up: true,
      vxlan: { vni: v.vni, dstport: v.dstport, local: v.local, dev: v.dev, learning: false },
    },
    routes,
    neighbours: s.neighbours.map((n) => ({ dev: device, ip: n.ip, mac: n.mac.toLowerCase() })),
    fdb: s.fdb.map((f) => ({ dev: device, mac: f.mac.toLowerCase(), dst: f.dst })),
  };
}
