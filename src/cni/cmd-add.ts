import { CniCode, CniError } from "../errors/cni-error.ts";
import { TartanError } from "../errors/tartan-error.ts";
import type { CniInterface, CniResult } from "../model/cni-result.ts";
import { randomMac } from "../model/mac-address.ts";
import { agentPodTarget } from "./agent-pod-target.ts";
import { applySysctls } from "./apply-sysctls.ts";
import { planBridge } from "./bridge-mode.ts";
import { type AddressPlan, planAddresses } from "./build-wiring.ts";
import { removeMasqueradeSafely } from "./cmd-del.ts";
import type { CniRequest } from "./cni-request.ts";
import { ipamFor, stateDirOf } from "./cni-request.ts";
import { hostVethName } from "./host-veth-name.ts";
import { joinPod } from "./join-pod.ts";
import { ensureMasquerade } from "./masquerade.ts";
import { mergePrevResult } from "./merge-prev-result.ts";
import type { PodPlan, PodWiring } from "./pod-plan.ts";
import { planRouted } from "./routed-mode.ts";

/**
 * CNI ADD. Order matters for crash safety: the attachment record is written first, then the
 * address is reserved, then the kernel is programmed; every step after the record is undone when a
 * later one fails, and whatever a crash leaves behind is found by DEL or GC through the record.
 */
export async function cmdAdd(req: CniRequest): Promise<CniResult> {
  const { deps, env, conf } = req;
  if (!deps.host.pathExists(env.netns)) {
    throw new CniError(
      CniCode.unknownContainer,
      `network namespace ${env.netns} (CNI_NETNS) does not exist`,
      "",
      "the container's namespace must exist before ADD; was the container already removed?",
    );
  }
  refuseOwnNetns(req);
  // Looked up once: the non-bridge check and the plan both need it.
  const bridgeExists = conf.mode === "bridge" && deps.host.linkExists(conf.bridge);
  if (bridgeExists) refuseNonBridge(req);
  const hostIfname = hostVethName(conf.name, env.containerId, env.ifname);
  if (deps.host.linkExists(hostIfname)) {
    throw new CniError(
      CniCode.interfaceExists,
      `container ${env.containerId} interface ${env.ifname} is already attached to network "${conf.name}" (host interface ${hostIfname} exists)`,
      "",
      "run DEL for this attachment before adding it again",
    );
  }
  if (conf.mode === "bridge" && conf.bridge === hostIfname) {
    throw new CniError(
      CniCode.invalidConfig,
      `bridge name ${conf.bridge} collides with a pod interface name`,
    );
  }
  const mtu = conf.mtu ?? deps.host.defaultRouteMtu() ?? 1500;
  const stateDir = stateDirOf(conf);
  const store = deps.openStore(stateDir);
  try {
    const key = { network: conf.name, containerId: env.containerId, ifname: env.ifname };
    const ipam = ipamFor(req, store);
    let kernelTouched = false;
    const agentTarget = agentPodTarget(req);
    let joined = false;
    try {
      const podMac = conf.mac ?? randomMac(deps.randomBytes(6));
      const hostMac = randomMac(deps.randomBytes(6));
      // Everything after the reservation is pure (MACs are chosen above), so for tartan-ipam the
      // plan and the final result are computed inside the reservation's transaction and recorded
      // with it: one commit per ADD. A delegated IPAM's record is provisional and completed below.
      let prepared: PreparedAdd | undefined;
      const prepare = (ipamResult: CniResult): PreparedAdd =>
        prepareAdd(req, ipamResult, { hostIfname, mtu, podMac, hostMac, bridgeExists });
      const ipamResult = await ipam.add((tx, result) => {
        if (result) prepared = prepare(result);
        tx.putAttachment({
          ...key,
          netns: env.netns,
          hostIfname,
          result: prepared ? JSON.stringify(prepared.result) : "",
          createdAt: Date.now(),
        });
      });
      const recorded = prepared !== undefined;
      const { plan, podPlan, result } = prepared ?? prepare(ipamResult);
      kernelTouched = true;
      const create = podPlan.host.filter((op) => op.op === "bridge-add");
      if (create.length > 0) {
        // Only the first pod of a node gets here. A concurrent ADD may create the bridge between
        // our look and our bridge-add: then its bridge is ours too.
        await deps.dataplane.apply(null, create).catch((e) => {
          if (!deps.host.linkExists(conf.bridge)) throw e;
          refuseNonBridge(req);
        });
      }
      await deps.dataplane.apply(
        null,
        podPlan.host.filter((op) => op.op !== "bridge-add"),
      );
      // allSettled, not all: the rollback must not start while the chain is still being written,
      // or the chain would land after the rollback removed it.
      const settled = await Promise.allSettled([
        deps.dataplane.apply(env.netns, podPlan.pod),
        applySysctls(deps, podPlan.sysctls),
        conf.ipMasq
          ? ensureMasquerade(
              deps,
              stateDir,
              conf.name,
              plan.addresses.map((a) => a.cidr),
            )
          : undefined,
      ]);
      for (const s of settled) if (s.status === "rejected") throw s.reason;
      if (agentTarget) {
        // Fail closed: the pod starts only once the agent has its policy rules in the kernel
        // (NETWORKPOLICY.md §1 rule 9: isolated before any container starts).
        joined = true;
        await (deps.joinPod ?? joinPod)(agentTarget.socket, {
          namespace: agentTarget.namespace,
          name: agentTarget.name,
          containerId: env.containerId,
          ips: plan.addresses.map((a) => a.cidr.slice(0, a.cidr.indexOf("/"))),
        });
      }

      if (!recorded) {
        store.transaction((tx) =>
          tx.putAttachment({
            ...key,
            netns: env.netns,
            hostIfname,
            result: JSON.stringify(result),
            createdAt: Date.now(),
          }),
        );
      }
      // A concurrent DEL of the network's last other pod may have removed the chain after our
      // first look; it re-checks after removing, and we re-check after recording (see cmd-del).
      if (conf.ipMasq)
        await ensureMasquerade(
          deps,
          stateDir,
          conf.name,
          plan.addresses.map((a) => a.cidr),
        );
      return result;
    } catch (e) {
      if (agentTarget && joined) {
        await (deps.joinPod ?? joinPod)(
          agentTarget.socket,
          { namespace: agentTarget.namespace, name: agentTarget.name, containerId: env.containerId, ips: [] },
          true,
        ).catch((le) => deps.log("warn", "ADD rollback: telling the agent failed", { error: String(le) }));
      }
      await rollback(req, store, hostIfname, kernelTouched, ipam);
      throw e;
    }
  } finally {
    store.close();
  }
}

/**
 * A pod is never wired into the namespace the plugin runs in: its "pod" routes and addresses
 * would land on the host. /proc/self/ns/net, /proc/1/ns/net or a bind mount of either all
 * resolve to the same namespace inode, which is what is compared.
 */
export function refuseOwnNetns(req: CniRequest): void {
  if (!req.deps.host.isOwnNetns(req.env.netns)) return;
  throw new TartanError(
    "cni-netns-is-host",
    `CNI_NETNS ${req.env.netns} is the network namespace the plugin runs in, not a container's`,
    "pass the container's own network namespace; the host's is never a pod's",
  );
}

/**
 * An existing interface named by `bridge` must be a bridge: before this check the gateway
 * address went onto whatever it was (eth0) and stayed there. Checked before anything is touched;
 * the caller knows the interface exists.
 */
function refuseNonBridge(req: CniRequest): void {
  const { deps, conf } = req;
  if (deps.host.isBridge(conf.bridge)) return;
  throw new TartanError(
    "cni-not-a-bridge",
    `bridge: interface ${conf.bridge} exists and is not a bridge; tartan will not put the pods' gateway on it`,
    'name a bridge, or a name that is free (tartan creates the bridge), in "bridge" of the network config',
  );
}

interface PreparedAdd {
  plan: AddressPlan;
  podPlan: PodPlan;
  result: CniResult;
}

/** The pure part of ADD: from the IPAM result to the kernel plan and the CNI result. */
function prepareAdd(
  req: CniRequest,
  ipamResult: CniResult,
  o: { hostIfname: string; mtu: number; podMac: string; hostMac: string; bridgeExists: boolean },
): PreparedAdd {
  const { env, conf } = req;
  const plan = planAddresses(ipamResult, conf.mode);
  const wiring: PodWiring = {
    netns: env.netns,
    ifname: env.ifname,
    hostIfname: o.hostIfname,
    mtu: o.mtu,
    podMac: o.podMac,
    hostMac: o.hostMac,
    addresses: plan.addresses,
    routes: plan.routes,
  };
  const podPlan: PodPlan =
    conf.mode === "bridge"
      ? planBridge(wiring, {
          bridge: conf.bridge,
          bridgeExists: o.bridgeExists,
          hairpin: conf.hairpinMode,
          forward: conf.ipMasq,
        })
      : planRouted(wiring);
  const interfaces: CniInterface[] = [];
  if (conf.mode === "bridge") interfaces.push({ name: conf.bridge, mac: bridgeMacOf(podPlan, conf.bridge) });
  interfaces.push({ name: o.hostIfname, mac: hostMacOf(podPlan, o.hostMac) });
  interfaces.push({ name: env.ifname, mac: o.podMac, mtu: o.mtu, sandbox: env.netns });
  const podIndex = interfaces.length - 1;
  const own: CniResult = {
    cniVersion: conf.cniVersion,
    interfaces,
    ips: plan.addresses.map((a) => ({
      address: a.cidr,
      ...(a.gateway ? { gateway: a.gateway } : {}),
      interface: podIndex,
    })),
    routes: plan.resultRoutes,
  };
  const dns = conf.dns ?? ipamResult.dns;
  if (dns) own.dns = dns;
  return { plan, podPlan, result: mergePrevResult(conf.prevResult, own) };
}

function bridgeMacOf(plan: PodPlan, bridge: string): string | undefined {
  for (const op of plan.host) if (op.op === "bridge-add" && op.name === bridge) return op.mac;
  return undefined;
}

function hostMacOf(plan: PodPlan, fallback: string): string {
  for (const op of plan.host) if (op.op === "veth-add") return op.mac ?? fallback;
  return fallback;
}

async function rollback(
  req: CniRequest,
  store: ReturnType<CniRequest["deps"]["openStore"]>,
  hostIfname: string,
  kernelTouched: boolean,
  ipam: { del(): Promise<void> },
): Promise<void> {
  const { deps, env, conf } = req;
  const note = (what: string, e: unknown) =>
    deps.log("warn", `ADD rollback: ${what} failed`, { error: e instanceof Error ? e.message : String(e) });
  if (kernelTouched && deps.host.linkExists(hostIfname)) {
    await deps.dataplane
      .apply(null, [{ op: "link-del", name: hostIfname }])
      .catch((e) => note("veth removal", e));
  }
  // Always: a delegated plugin may have reserved before failing, and releasing nothing is harmless.
  await ipam.del().catch((e) => note("address release", e));
  try {
    const left = store.transaction((tx) => {
      tx.deleteAttachment(conf.name, env.containerId, env.ifname);
      return tx.attachments(conf.name).length;
    });
    // The chain may have been written for this pod alone: it goes with the network's last pod.
    if (conf.ipMasq && left === 0)
      await removeMasqueradeSafely(req, stateDirOf(conf)).catch((e) => note("ipMasq chain removal", e));
  } catch (e) {
    note("attachment record removal", e);
  }
}
