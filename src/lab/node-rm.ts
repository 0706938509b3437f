import { existsSync, rmSync } from "node:fs";
import { etcdFlagsArgv } from "../cli/datastore-target.ts";
import { type EtcdTlsFiles, openDatastore } from "../datastore/open-datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import { type ForgetNodeResult, forgetNode } from "../ipam/forget-node.ts";
import { isBgpBackend } from "../model/routing-backend.ts";
import { killNetnsResidents } from "./kill-netns-residents.ts";
import { podRm } from "./pod-rm.ts";
import { requireLabState } from "./require-lab-state.ts";
import { stopLabProcess } from "./stop-lab-process.ts";
import { stopNodeBird } from "./stop-node-bird.ts";
import { updateLabState } from "./update-lab-state.ts";

export interface NodeRmResult {
  node: string;
  pods: string[];
  agentStopped?: number;
  /** What was deleted from the datastore (its Node and IPAMBlocks). */
  datastore: ForgetNodeResult;
  netns: string;
}

/**
 * `tartan lab forget-node NODE --etcd URL` (internal, run inside the fabric namespace where etcd
 * listens): deletes the node's IPAMBlocks and its Node (ipam/forget-node.ts).
 */
export async function runForgetNode(
  endpoint: string,
  node: string,
  tls?: EtcdTlsFiles,
): Promise<ForgetNodeResult> {
  const ds = await openDatastore({ type: "etcd", endpoints: [endpoint], ...(tls ? { tls } : {}) });
  try {
    return await forgetNode(ds, node);
  } finally {
    await ds.close().catch(() => {});
  }
}

/**
 * `tartan lab node rm NODE`: takes a node out of the cluster the way an operator would: its pods
 * are deleted (CNI DEL), its agent is stopped (by PID; a live agent would register the Node
 * again), its Node and IPAMBlocks are deleted from etcd, then its namespace goes (with its
 * underlay veth). The other agents see the deletes and remove their routes, neighbour and FDB
 * entries for it. A failure (etcd down) leaves the node recorded, so the command can be retried.
 */
export async function nodeRm(lab: string, nodeName: string): Promise<NodeRmResult> {
  const { paths, state } = requireLabState(lab);
  if (state.kubeApi) {
    // forget-node deletes the node's objects from etcd in Tartan's own key layout; in Kubernetes
    // mode they live in the API server's (/registry/...), so it would delete nothing.
    throw new TartanError(
      "lab-usage",
      `lab node rm does not support Kubernetes mode yet (lab "${lab}" runs with --datastore kubernetes)`,
      `remove the node's objects with tartan lab kubectl --lab ${lab} -- delete node ${nodeName}, or recreate the lab`,
    );
  }
  const node = state.nodes.find((n) => n.name === nodeName);
  if (!node) {
    throw new TartanError(
      "lab-no-node",
      `lab "${lab}" has no node "${nodeName}"`,
      `nodes: ${state.nodes.map((n) => n.name).join(", ") || "none"}`,
    );
  }
  const pods = state.pods.filter((p) => p.node === nodeName);
  for (const p of pods) await podRm({ lab, pod: { namespace: p.namespace, name: p.name } });
  const agentStopped = node.agent && (await stopLabProcess(node.agent)) ? node.agent.pid : undefined;
  // A BGP node's bird outlives its agent (graceful restart): stop it cleanly so peers withdraw now.
  if (isBgpBackend(state.backend)) await stopNodeBird(node);
  const endpoint = state.etcd?.endpoint;
  if (!endpoint) throw new TartanError("lab-no-etcd", `lab "${lab}" has no etcd recorded`);
  const out = await run(
    [
      "ip",
      "netns",
      "exec",
      state.fabric.netns,
      state.tartan,
      "lab",
      "forget-node",
      nodeName,
      "--etcd",
      endpoint,
      ...etcdFlagsArgv(state.etcd?.tls),
    ],
    { allowFailure: true, timeoutMs: 30_000 },
  );
  if (out.code !== 0) {
    throw new TartanError(
      "lab-forget-node",
      `could not delete node ${nodeName} from etcd: ${out.stderr.trim() || out.stdout.trim()}`,
      `is etcd up? (tartan lab ls --lab ${lab}); then run node rm again`,
    );
  }
  const datastore = JSON.parse(out.stdout) as ForgetNodeResult;
  if (existsSync(`/run/netns/${node.netns}`)) {
    await killNetnsResidents(node.netns);
    await run(["ip", "netns", "del", node.netns]);
  }
  await updateLabState(paths, (s) => ({ ...s!, nodes: s!.nodes.filter((n) => n.name !== nodeName) }));
  rmSync(node.dir, { recursive: true, force: true });
  return {
    node: nodeName,
    pods: pods.map((p) => `${p.namespace}/${p.name}`),
    agentStopped,
    datastore,
    netns: node.netns,
  };
}
