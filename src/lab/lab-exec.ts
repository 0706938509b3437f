import type { PodRef } from "../cli/pod-ref.ts";
import { runAttached } from "../exec/run-attached.ts";
import { requireLabState } from "./require-lab-state.ts";

/**
 * `tartan lab exec POD -- CMD...`: runs a program of this machine inside the pod's network
 * namespace (only the network is the pod's: files and processes are the host's), attached to
 * the terminal; returns its exit status.
 */
export async function labExec(lab: string, ref: PodRef, argv: string[]): Promise<number> {
  const { pod } = requireLabState(lab);
  return await runAttached(["ip", "netns", "exec", pod(ref).netns, ...argv]);
}
