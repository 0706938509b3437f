import type { BirdDaemon } from "../dataplane/bird-daemon.ts";
import type { Dataplane } from "../dataplane/dataplane.ts";
import type { KernelOp } from "../dataplane/kernel-op.ts";
import { type Cidr, overlaps, parseCidr } from "../model/cidr.ts";
import { type AgentLog, errorFields } from "./agent-log.ts";

/** RTPROT_BIRD: the protocol number bird gives the routes it puts in the kernel. */
export const PROTO_BIRD = 12;

/**
 * A node switched from a bgp backend to another (vxlan, direct routes): the agent of the new
 * backend runs no BGP manager, and the bird the old one started — detached, to outlive agent
 * restarts — went on holding its sessions and announcing this node's blocks, while its `persist`
 * routes to the other nodes' blocks stayed in the kernel beside (or in the way of) the new
 * backend's. Called by the wiring before the agent starts, for the backends without BGP: stops
 * the bird of `bird`'s state directory (by its pid file, only when it is ours), then removes the
 * kernel's bird routes inside the agent's pools. Nothing happens on a node where tartan's bird
 * never ran (no config in its state directory): routes of someone else's bird are not touched.
 */
export async function retireBird(
  bird: BirdDaemon,
  dp: Dataplane,
  pools: readonly { cidr: string }[],
  log: AgentLog,
  hadConfig: boolean,
): Promise<{ stopped?: number; routesRemoved: number }> {
  const found = bird.process();
  if (found !== undefined && !bird.sharesNetns(found)) {
    // Its files are in this agent's state directory, but it serves another namespace: not ours
    // to stop, and its routes are not in this one.
    log("warn", "a bird in another network namespace uses this node's BGP state directory; left alone", {
      birdPid: found,
      stateDir: bird.paths.dir,
    });
    return { routesRemoved: 0 };
  }
  const pid = found;
  if (!hadConfig && pid === undefined) return { routesRemoved: 0 };
  let stopped: number | undefined;
  if (pid !== undefined) {
    log("warn", "bird of an earlier bgp backend is still running; stopping it (this backend has no BGP)", {
      birdPid: pid,
      socket: bird.paths.ctl,
    });
    if (!(await bird.terminate(pid))) {
      // A live bird puts its routes back at its next kernel scan: removing them would be a fight.
      log("error", "bird did not stop; its sessions and routes stay", { birdPid: pid });
      return { routesRemoved: 0 };
    }
    stopped = pid;
  }
  const poolCidrs: Cidr[] = pools.map((p) => parseCidr(p.cidr));
  const ops: KernelOp[] = [];
  for (const family of [4, 6] as const) {
    for (const r of await dp.routes(null, family)) {
      if (r.proto !== PROTO_BIRD || r.dst === "default") continue;
      const dst = parseCidr(r.dst);
      // Inside a pool (a block of one), not merely overlapping one: a broader route is not ours.
      if (!poolCidrs.some((p) => dst.prefix >= p.prefix && overlaps(p, dst))) continue;
      ops.push({
        op: "route-del",
        dst: r.dst,
        family,
        proto: PROTO_BIRD,
        ...(r.type ? { type: r.type } : {}),
      });
    }
  }
  if (ops.length > 0) {
    try {
      await dp.apply(null, ops, { independent: true });
      log("info", "removed the routes an earlier bird left in the kernel", { routes: ops.length });
    } catch (e) {
      // Left over routes are the routing manager's conflicts to report; the agent still starts.
      log("error", "could not remove every route an earlier bird left", errorFields(e));
    }
  }
  return { ...(stopped !== undefined ? { stopped } : {}), routesRemoved: ops.length };
}
