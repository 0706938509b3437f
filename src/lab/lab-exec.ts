import type { PodRef } from "../cli/pod-ref.ts";
import { runAttached } from "../exec/run-attached.ts";
import type { LabState } from "./lab-state.ts";
import { requireLabState } from "./require-lab-state.ts";

/**
 * The namespace of a lab host that is not a pod (`lab up --tor`): `outside`, the client behind
 * the ToR, and `tor`, the fabric namespace the ToR's FRR runs in. A pod of that name wins.
 */
function hostNetns(state: LabState, ref: PodRef): string | undefined {
  if (
    ref.namespace !== "default" ||
    state.pods.some((p) => p.namespace === ref.namespace && p.name === ref.name)
  )
    return undefined;
  if (ref.name === "outside" && state.outside) return state.outside.netns;
  if (ref.name === "tor" && state.tor) return state.fabric.netns;
  return undefined;
}

/**
 * `tartan lab exec POD -- CMD...`: runs a program of this machine inside the pod's network
 * namespace (only the network is the pod's: files and processes are the host's), attached to
 * the terminal; returns its exit status. POD may also be `outside` or `tor` in a `--tor` lab.
 */
export async function labExec(lab: string, ref: PodRef, argv: string[]): Promise<number> {
  const { state, pod } = requireLabState(lab);
  const netns = hostNetns(state, ref) ?? pod(ref).netns;
  return await runAttached(["ip", "netns", "exec", netns, ...argv]);
}
