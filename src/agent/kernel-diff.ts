import type { DesiredRoute, DesiredState, DesiredVxlan } from "../calc/desired-kernel-state.ts";
import type { FdbInfo, KernelOp, LinkInfo, NeighInfo, RouteInfo } from "../dataplane/kernel-op.ts";
import { TARTAN_OWNED } from "../dataplane/tartan-owned.ts";

/** What the reconciler read from one namespace (routes: the whole main table, both families). */
export interface ActualKernelState {
  /** The link named like the VXLAN device, whatever its kind; undefined when absent. */
  vxlan?: LinkInfo;
  routes: RouteInfo[];
  /** Permanent neighbour entries (any device; only the VXLAN device's are considered). */
  neighbours: NeighInfo[];
  /** FDB entries of the VXLAN device. */
  fdb: FdbInfo[];
}

export interface ReconcileStats {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  /** Desired routes not written because a route tartan does not own holds their destination. */
  conflicts: string[];
}

export interface KernelDiff {
  ops: KernelOp[];
  stats: ReconcileStats;
}

const PROTO = TARTAN_OWNED.routeProto;

/**
 * Which main-table routes the inter-node reconciler owns: tartan's protocol and either a
 * blackhole, a gateway, or the VXLAN device. Pod routes (proto 201 too, but `dev ttXXXX` with no
 * gateway) belong to the CNI plugin and are never touched here.
 */
export function ownedRoute(r: RouteInfo, device: string): boolean {
  return r.proto === PROTO && (r.type === "blackhole" || r.via !== undefined || r.dev === device);
}

// The kernel refuses a second route with the same table, dst and metric; ours use the default.
export const routeKey = (r: { family: 4 | 6; dst: string }) => `${r.family} ${r.dst}`;
export const defaultMetric = (r: RouteInfo) => (r.metric ?? 0) === (r.family === 6 ? 1024 : 0);

export function sameRoute(want: DesiredRoute, have: RouteInfo): boolean {
  return (
    want.type === (have.type ?? "unicast") &&
    want.via === have.via &&
    (want.dev === undefined || want.dev === have.dev) &&
    (want.onlink ?? false) === (have.onlink ?? false)
  );
}

function routeOp(r: DesiredRoute, replace: boolean): KernelOp {
  const op: KernelOp = { op: "route-add", dst: r.dst, family: r.family, proto: PROTO };
  if (r.type === "blackhole") op.type = "blackhole";
  if (r.via !== undefined) op.via = r.via;
  if (r.dev !== undefined) op.dev = r.dev;
  if (r.onlink) op.onlink = true;
  if (replace) op.replace = true;
  return op;
}

function routeDelOp(r: RouteInfo): KernelOp {
  const op: KernelOp = { op: "route-del", dst: r.dst, family: r.family, proto: PROTO };
  if (r.type === "blackhole") op.type = "blackhole";
  if (r.via !== undefined) op.via = r.via;
  if (r.dev !== undefined) op.dev = r.dev;
  return op;
}

/** "keep", "tune" (MTU or up), or "recreate" (an attribute only creation sets differs). */
function deviceVerdict(want: DesiredVxlan, have: LinkInfo): "keep" | "tune" | "recreate" {
  const v = have.vxlan;
  if (
    have.kind !== "vxlan" ||
    !v ||
    v.vni !== want.vni ||
    v.dstport !== want.dstport ||
    v.local !== want.local ||
    v.dev !== want.dev ||
    v.learning ||
    have.mac !== want.mac.toLowerCase()
  )
    return "recreate";
  return have.mtu !== want.mtu || !have.up ? "tune" : "keep";
}

/**
 * The ops that turn the tartan-owned part of `actual` into `desired`, and what they amount to:
 * missing objects are added, different ones replaced, extra ones deleted, nothing else touched.
 * Order: the device first (its routes, neighbours and FDB entries vanish with it when it is
 * deleted or recreated), stale routes and neighbours, then FDB entries, then new routes, so that
 * a route never carries traffic before its neighbour and FDB entries are in place.
 */
export function diffKernelState(desired: DesiredState, actual: ActualKernelState): KernelDiff {
  const device = desired.vxlan?.name ?? TARTAN_OWNED.vxlanDevice;
  const stats: ReconcileStats = { added: 0, changed: 0, removed: 0, unchanged: 0, conflicts: [] };
  const deviceOps: KernelOp[] = [];
  const cleanupOps: KernelOp[] = [];
  const fdbOps: KernelOp[] = [];
  const routeOps: KernelOp[] = [];

  // 1. The device. When it goes (or is recreated) everything on it goes with it in the kernel.
  let deviceFresh = false;
  const have = actual.vxlan;
  const want = desired.vxlan;
  if (have && (!want || deviceVerdict(want, have) === "recreate")) {
    deviceOps.push({ op: "link-del", name: device });
    deviceFresh = true;
    if (!want) stats.removed++;
  }
  if (want && (!have || deviceFresh)) {
    const add: KernelOp = {
      op: "vxlan-add",
      name: want.name,
      vni: want.vni,
      dstport: want.dstport,
      local: want.local,
      dev: want.dev,
      mtu: want.mtu,
      mac: want.mac,
    };
    deviceOps.push(add, { op: "link-set", name: want.name, up: true });
    if (have) stats.changed++;
    else stats.added++;
  } else if (want && have) {
    if (deviceVerdict(want, have) === "tune") {
      deviceOps.push({ op: "link-set", name: want.name, mtu: want.mtu, up: true });
      stats.changed++;
    } else stats.unchanged++;
  }
  const onDevice = (dev: string | undefined) => have !== undefined && dev === device;
  const gone = (dev: string | undefined) => deviceFresh && onDevice(dev);

  // 2. Routes, keyed like the kernel keys them.
  const owned = new Map<string, RouteInfo>();
  const foreign = new Set<string>();
  const wanted = new Set(desired.routes.map(routeKey));
  for (const r of actual.routes) {
    if (ownedRoute(r, device)) {
      if (gone(r.dev)) {
        if (!wanted.has(routeKey(r))) stats.removed++;
        continue;
      }
      const key = routeKey(r);
      if (owned.has(key) || !defaultMetric(r)) {
        cleanupOps.push(routeDelOp(r)); // a duplicate at another metric: not ours to keep
        stats.removed++;
      } else owned.set(key, r);
    } else if (defaultMetric(r)) foreign.add(routeKey(r));
  }
  for (const [key, r] of owned) {
    if (!wanted.has(key)) {
      cleanupOps.push(routeDelOp(r));
      stats.removed++;
    }
  }
  for (const r of desired.routes) {
    const key = routeKey(r);
    const cur = owned.get(key);
    if (cur) {
      if (sameRoute(r, cur)) stats.unchanged++;
      else {
        routeOps.push(routeOp(r, true));
        stats.changed++;
      }
    } else if (foreign.has(key)) {
      stats.conflicts.push(`${r.dst}: the kernel holds a route tartan does not own (not proto ${PROTO})`);
    } else {
      // Plain add, never replace: if a foreign route appeared since the read, fail, do not clobber it.
      routeOps.push(routeOp(r, false));
      stats.added++;
    }
  }

  // 3. Neighbours and FDB entries on the device (all of them are tartan's: the device is). While
  // the device is kept, `have` and `want` are both defined; a fresh device starts empty.
  const kept = !deviceFresh && have !== undefined;
  const wantNeigh = new Map(want ? desired.neighbours.map((n) => [n.ip, n.mac.toLowerCase()]) : []);
  const deviceNeigh = actual.neighbours.filter((n) => onDevice(n.dev));
  const haveNeigh = new Map(kept ? deviceNeigh.map((n) => [n.ip, n.mac]) : []);
  if (deviceFresh) stats.removed += deviceNeigh.filter((n) => !wantNeigh.has(n.ip)).length;
  for (const ip of haveNeigh.keys()) {
    if (wantNeigh.has(ip)) continue;
    cleanupOps.push({ op: "neigh-del", dev: device, ip });
    stats.removed++;
  }
  for (const [ip, mac] of wantNeigh) {
    const cur = haveNeigh.get(ip);
    if (cur === mac) {
      stats.unchanged++;
      continue;
    }
    cleanupOps.push({ op: "neigh-replace", dev: device, ip, mac });
    if (cur === undefined) stats.added++;
    else stats.changed++;
  }

  const wantFdb = new Map(want ? desired.fdb.map((f) => [f.mac.toLowerCase(), f.dst]) : []);
  const haveFdb = kept ? actual.fdb : [];
  if (deviceFresh) stats.removed += actual.fdb.filter((f) => !wantFdb.has(f.mac)).length;
  const inPlace = new Set(haveFdb.filter((f) => wantFdb.get(f.mac) === f.dst).map((f) => f.mac));
  // A set, not a scan per wanted MAC: a 1000-node burst adds hundreds of entries to hundreds.
  const haveMacs = new Set(haveFdb.map((f) => f.mac));
  for (const f of haveFdb) {
    if (wantFdb.get(f.mac) === f.dst) continue;
    // A wanted MAC at the wrong VTEP is moved by fdb-replace below, unless the right entry also
    // exists (a MAC appended to several VTEPs by hand): then the wrong one is deleted.
    if (wantFdb.has(f.mac) && !inPlace.has(f.mac)) continue;
    fdbOps.push({ op: "fdb-del", dev: device, mac: f.mac, dst: f.dst });
    stats.removed++;
  }
  for (const [mac, dst] of wantFdb) {
    if (inPlace.has(mac)) {
      stats.unchanged++;
      continue;
    }
    fdbOps.push({ op: "fdb-replace", dev: device, mac, dst });
    if (haveMacs.has(mac)) stats.changed++;
    else stats.added++;
  }

  return { ops: [...deviceOps, ...cleanupOps, ...fdbOps, ...routeOps], stats };
}
