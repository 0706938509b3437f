import { agentPodTarget } from "./agent-pod-target.ts";
import type { CniRequest } from "./cni-request.ts";
import { ipamFor, stateDirOf } from "./cni-request.ts";
import { hostVethName } from "./host-veth-name.ts";
import { joinPod } from "./join-pod.ts";
import { ensureMasquerade, removeMasquerade } from "./masquerade.ts";

/**
 * CNI DEL: succeeds whatever is already gone (netns, veth, reservation, record). Removing the host
 * end of the veth removes the pod end and the routes through it, so the pod's namespace is not
 * needed. The network's ipMasq chain goes with its last attachment.
 */
export async function cmdDel(req: CniRequest): Promise<void> {
  const { deps, env, conf } = req;
  const hostIfname = hostVethName(conf.name, env.containerId, env.ifname);
  if (deps.host.linkExists(hostIfname)) {
    try {
      await deps.dataplane.apply(null, [{ op: "link-del", name: hostIfname }]);
    } catch (e) {
      // It may have vanished between the check and the delete (its netns was removed): fine.
      if (deps.host.linkExists(hostIfname)) throw e;
    }
  }
  const target = agentPodTarget(req);
  if (target) {
    // Best effort: the pod's IPs leave the policy sets; a missing agent does not block DEL.
    await (deps.joinPod ?? joinPod)(
      target.socket,
      { namespace: target.namespace, name: target.name, containerId: env.containerId, ips: [] },
      true,
    ).catch((e) => deps.log("warn", "DEL: telling the agent the pod left failed", { error: String(e) }));
  }
  const stateDir = stateDirOf(conf);
  const store = deps.openStore(stateDir);
  try {
    await ipamFor(req, store).del();
    const left = store.transaction((tx) => {
      tx.deleteAttachment(conf.name, env.containerId, env.ifname);
      return tx.attachments(conf.name).length;
    });
    if (conf.ipMasq && left === 0) await removeMasqueradeSafely(req, stateDir);
  } finally {
    store.close();
  }
}

/**
 * An ADD may have started between our count and the removal and skipped writing the chain
 * because the marker was still there; ADD records its attachment before it looks, so counting
 * again after the removal catches it and the chain is put back.
 */
export async function removeMasqueradeSafely(req: CniRequest, stateDir: string): Promise<void> {
  const { deps, conf } = req;
  await removeMasquerade(deps, stateDir, conf.name);
  const store = deps.openStore(stateDir);
  try {
    const again = store.transaction((tx) => tx.attachments(conf.name));
    const addresses = again.flatMap((a) => {
      if (!a.result) return [];
      try {
        return ((JSON.parse(a.result) as { ips?: { address: string }[] }).ips ?? []).map((ip) => ip.address);
      } catch {
        return [];
      }
    });
    if (addresses.length > 0) await ensureMasquerade(deps, stateDir, conf.name, addresses, true);
  } finally {
    store.close();
  }
}
