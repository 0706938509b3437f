import type { CniRequest } from "./cni-request.ts";
import { IN_PROCESS_IPAM_TYPE } from "./cni-request.ts";

export interface AgentPodTarget {
  socket: string;
  namespace: string;
  name: string;
}

/**
 * Where to report a pod's join/leave: only in agent mode (tartan-ipam with ipam.agentSocket) and
 * only for Kubernetes pods (CNI_ARGS K8S_POD_NAMESPACE and K8S_POD_NAME); policy selects Pods,
 * so a container without them (podman, a test) has no policy to wait for.
 */
export function agentPodTarget(req: CniRequest): AgentPodTarget | undefined {
  const { conf, env } = req;
  const socket = conf.ipam.type === IN_PROCESS_IPAM_TYPE ? conf.ipam.agentSocket : undefined;
  if (typeof socket !== "string" || !socket.startsWith("/")) return undefined;
  const namespace = env.args.get("K8S_POD_NAMESPACE");
  const name = env.args.get("K8S_POD_NAME");
  if (!namespace || !name) return undefined;
  return { socket, namespace, name };
}
