import { existsSync, readFileSync } from "node:fs";
import type { PodRef } from "../cli/pod-ref.ts";
import { run } from "../exec/run.ts";
import { callCni } from "./cni-call.ts";
import { killNetnsResidents } from "./kill-netns-residents.ts";
import { deleteLabPod } from "./lab-kube-pod.ts";
import { labObjectsCli } from "./lab-objects-cli.ts";
import { labPodManifest } from "./lab-pod-manifest.ts";
import { processStartTime } from "./process-start-time.ts";
import { requireLabState } from "./require-lab-state.ts";
import { stopLabProcess } from "./stop-lab-process.ts";
import { updateLabState } from "./update-lab-state.ts";

export interface PodRmResult {
  pod: string;
  node: string;
  netns: string;
  released: string[];
}

/**
 * `tartan lab pod rm POD`: CNI DEL through the real plugin on the pod's node (which releases its
 * addresses and removes the host side), then the responder and the namespace. A DEL that fails
 * while the node is there keeps the pod recorded, so the command can be retried.
 */
export async function podRm(o: { lab: string; pod: PodRef }): Promise<PodRmResult> {
  const { paths, state, pod: find } = requireLabState(o.lab);
  const pod = find(o.pod);
  const node = state.nodes.find((n) => n.name === pod.node);
  if (pod.responder) await stopLabProcess(pod.responder, 1000);
  if (node && existsSync(`/run/netns/${node.netns}`)) {
    await callCni({
      command: "DEL",
      tartan: state.tartan,
      nodeNetns: node.netns,
      podNetns: pod.netns,
      containerId: pod.containerId,
      ifname: pod.ifname,
      podNamespace: pod.namespace,
      podName: pod.name,
      netconf: JSON.parse(readFileSync(node.netconfFile, "utf8")) as Record<string, unknown>,
    });
  }
  if (existsSync(`/run/netns/${pod.netns}`)) {
    await killNetnsResidents(pod.netns);
    await run(["ip", "netns", "del", pod.netns]);
  }
  // The Pod object goes after its network, as in a cluster. A failure keeps the pod recorded
  // (run pod rm again); with etcd stopped (an outage drill) the object stays behind.
  if (state.kubeApi && processStartTime(state.kubeApi.pid) === state.kubeApi.startTime) {
    await deleteLabPod(state, pod.namespace, pod.name);
  } else if (!state.kubeApi && state.etcd && processStartTime(state.etcd.pid) === state.etcd.startTime) {
    const manifest = labPodManifest({ ...pod, labels: {}, ports: [] });
    await labObjectsCli(state, ["delete", "-f", "-", "--ignore-not-found"], JSON.stringify(manifest));
  }
  await updateLabState(paths, (s) => ({
    ...s!,
    pods: s!.pods.filter((p) => !(p.namespace === pod.namespace && p.name === pod.name)),
  }));
  return { pod: `${pod.namespace}/${pod.name}`, node: pod.node, netns: pod.netns, released: pod.ips };
}
