import { dirname } from "node:path";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import { cniPluginExecutable } from "./tartan-executable.ts";

export interface CniCall {
  command: "ADD" | "DEL" | "CHECK";
  tartan: string;
  nodeNetns: string;
  podNetns: string;
  containerId: string;
  ifname: string;
  podNamespace: string;
  podName: string;
  netconf: Record<string, unknown>;
}

/**
 * Calls the real CNI plugin the way a runtime on the node would: `dist/cni/tartan` (beside the
 * lab's tartan executable; cniPluginExecutable) with CNI_* in the
 * environment and the network config on stdin, run inside the node's namespace (`ip netns exec`
 * also gives it that namespace's /sys). Returns the parsed result (ADD) or null; a plugin error
 * becomes a TartanError with the plugin's own message.
 */
export async function callCni(c: CniCall): Promise<Record<string, unknown> | null> {
  const plugin = cniPluginExecutable(c.tartan);
  const env = {
    ...process.env,
    CNI_COMMAND: c.command,
    CNI_CONTAINERID: c.containerId,
    CNI_NETNS: `/run/netns/${c.podNetns}`,
    CNI_IFNAME: c.ifname,
    CNI_PATH: dirname(plugin),
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${c.podNamespace};K8S_POD_NAME=${c.podName};K8S_POD_INFRA_CONTAINER_ID=${c.containerId}`,
  };
  const out = await run(["ip", "netns", "exec", c.nodeNetns, plugin], {
    env,
    stdin: JSON.stringify(c.netconf),
    allowFailure: true,
    timeoutMs: 60_000,
  });
  if (out.code !== 0) {
    let msg = out.stderr.trim() || out.stdout.trim();
    try {
      const err = JSON.parse(out.stdout) as { code?: number; msg?: string; details?: string };
      msg = `${err.msg ?? ""}${err.details ? ` (${err.details})` : ""} [CNI code ${err.code}]`;
    } catch {}
    throw new TartanError(
      "lab-cni-failed",
      `CNI ${c.command} of ${c.podNamespace}/${c.podName} failed: ${msg}`,
      "set TARTAN_LOG_FILE=/tmp/tartan-cni.log and TARTAN_LOG_LEVEL=debug to log the plugin's steps",
    );
  }
  if (c.command !== "ADD") return null;
  return JSON.parse(out.stdout) as Record<string, unknown>;
}
