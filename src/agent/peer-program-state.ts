import type { DesiredRoute, DesiredState } from "../calc/desired-kernel-state.ts";
import type { RoutingProblem } from "../calc/routing-problem.ts";
import { TARTAN_OWNED } from "../dataplane/tartan-owned.ts";
import type { PeerProgramState } from "../model/agent-api.ts";
import { formatNetwork, parseCidr } from "../model/cidr.ts";
import type { IPAMBlockResource } from "../model/cluster-resources.ts";
import { type ActualKernelState, defaultMetric, ownedRoute, routeKey, sameRoute } from "./kernel-diff.ts";

export interface PeerStateInput {
  localNode: string;
  /** Every Node name the agent knows (the local one is skipped). */
  nodes: readonly string[];
  blocks: readonly IPAMBlockResource[];
  desired: DesiredState;
  problems: readonly RoutingProblem[];
  actual: ActualKernelState;
}

export interface PeerStates {
  peers: PeerProgramState[];
  /** Problems of the node itself (no VTEP MAC, VXLAN device missing or wrong). */
  local: string[];
}

const canonical = (cidr: string): string => {
  try {
    return formatNetwork(parseCidr(cidr, "cidr"));
  } catch {
    return cidr;
  }
};

const routeText = (r: DesiredRoute): string =>
  r.type === "blackhole"
    ? "blackhole"
    : [r.via ? `via ${r.via}` : "", r.dev ? `dev ${r.dev}` : "", r.onlink ? "onlink" : ""]
        .filter(Boolean)
        .join(" ");

const haveText = (r: { via?: string; dev?: string; type?: string }): string =>
  r.type === "blackhole"
    ? "blackhole"
    : [r.via ? `via ${r.via}` : "", r.dev ? `dev ${r.dev}` : ""].filter(Boolean).join(" ");

/**
 * Per peer node, whether what this node needs to reach it (calc's desired routes to its blocks,
 * and for VXLAN the neighbour and FDB entry behind them) is in the kernel as the reconciler reads
 * it, and in words what is missing: the "is this node's side of the mesh right" of `tartan
 * status`. Pure: the same desired state and kernel read the reconciler diffs.
 */
export function peerProgramStates(i: PeerStateInput): PeerStates {
  const device = i.desired.vxlan?.name ?? TARTAN_OWNED.vxlanDevice;
  const local: string[] = [];
  for (const p of i.problems) if (p.node === i.localNode && !p.block) local.push(p.message);
  const vxlanMissing = i.desired.vxlan !== undefined && i.actual.vxlan === undefined;
  if (vxlanMissing) local.push(`the VXLAN device ${device} is missing`);
  else if (i.desired.vxlan && i.actual.vxlan && !i.actual.vxlan.up)
    local.push(`the VXLAN device ${device} is down`);

  const owned = new Map<string, (typeof i.actual.routes)[0]>();
  const foreign = new Set<string>();
  for (const r of i.actual.routes) {
    if (ownedRoute(r, device) && defaultMetric(r)) owned.set(routeKey(r), r);
    else if (defaultMetric(r)) foreign.add(routeKey(r));
  }
  const desiredByDst = new Map(i.desired.routes.map((r) => [r.dst, r]));
  const onDevice = i.actual.vxlan !== undefined;
  const haveNeigh = new Map(
    onDevice
      ? i.actual.neighbours.filter((n) => n.dev === device).map((n) => [n.ip, n.mac.toLowerCase()])
      : [],
  );
  const haveFdb = onDevice ? i.actual.fdb : [];

  const peers: PeerProgramState[] = [];
  for (const name of [...i.nodes].sort()) {
    if (name === i.localNode) continue;
    const issues: string[] = [];
    const peer: PeerProgramState = { name, ok: true, routes: [] };
    for (const p of i.problems) if (p.node === name && !p.block) issues.push(p.message);
    const blocks = i.blocks
      .filter((b) => b.spec.node === name)
      .map((b) => canonical(b.spec.cidr))
      .sort();
    for (const dst of blocks) {
      const want = desiredByDst.get(dst);
      if (!want) {
        const why = i.problems.find((p) => p.node === name && (p.block === undefined || p.block === dst));
        if (why) {
          peer.routes.push({ dst, state: "not-routed" });
          issues.push(`block ${dst} not routed: ${why.message}`);
          continue;
        }
        // The backend leaves this block to another router (BIRD over BGP): any route to it counts.
        const other = i.actual.routes.find((r) => r.dst === dst);
        if (other) peer.routes.push({ dst, route: `${haveText(other)} proto ${other.proto}`, state: "ok" });
        else {
          peer.routes.push({ dst, state: "missing" });
          issues.push(`no route to block ${dst} (left to the backend's router: see tartan bgp status)`);
        }
        continue;
      }
      const have = owned.get(routeKey(want));
      const route = routeText(want);
      if (!have) {
        const state = foreign.has(routeKey(want)) ? "conflict" : "missing";
        peer.routes.push({ dst, route, state });
        issues.push(
          state === "conflict"
            ? `route ${dst} is held by a route tartan does not own`
            : `route ${dst} ${route} missing`,
        );
      } else if (!sameRoute(want, have)) {
        peer.routes.push({ dst, route, state: "differs" });
        issues.push(`route ${dst} is ${haveText(have)}, want ${route}`);
      } else peer.routes.push({ dst, route, state: "ok" });
      const neigh = want.via ? i.desired.neighbours.find((n) => n.ip === want.via) : undefined;
      if (neigh && !peer.neighbour) {
        const mac = neigh.mac.toLowerCase();
        const cur = haveNeigh.get(neigh.ip);
        const state = cur === undefined ? "missing" : cur === mac ? "ok" : "differs";
        peer.neighbour = { ip: neigh.ip, mac, state };
        if (state === "missing") issues.push(`neighbour ${neigh.ip} lladdr ${mac} missing on ${device}`);
        if (state === "differs") issues.push(`neighbour ${neigh.ip} is ${cur}, want ${mac}`);
        const fdb = i.desired.fdb.find((f) => f.mac.toLowerCase() === mac);
        if (fdb) {
          const entries = haveFdb.filter((f) => f.mac.toLowerCase() === mac);
          const fstate = entries.some((f) => f.dst === fdb.dst)
            ? "ok"
            : entries.length
              ? "differs"
              : "missing";
          peer.fdb = { mac, dst: fdb.dst, state: fstate };
          if (fstate === "missing") issues.push(`FDB ${mac} dst ${fdb.dst} missing on ${device}`);
          if (fstate === "differs")
            issues.push(`FDB ${mac} points at ${entries.map((f) => f.dst).join(",")}, want ${fdb.dst}`);
        }
      }
    }
    if (vxlanMissing && peer.routes.some((r) => r.route?.includes(device)))
      issues.unshift(`the VXLAN device ${device} is missing`);
    if (issues.length) {
      peer.ok = false;
      peer.problem = [...new Set(issues)].join("; ");
    }
    peers.push(peer);
  }
  return { peers, local };
}
